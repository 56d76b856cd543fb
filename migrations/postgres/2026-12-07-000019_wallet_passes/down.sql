DROP TABLE apple_pass_registrations;
DROP TABLE wallet_passes;
