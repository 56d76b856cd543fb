//! The one schema for both backends. Written by hand with portable column types only
//! (BigInt, Integer, Text, Timestamp), so every query compiles for SQLite and PostgreSQL.

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        role -> Text,
        key_hash -> Text,
        key_prefix -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        private_key -> Text,
        public_key -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        name -> Text,
        venue -> Text,
        time_zone -> Text,
        created_at -> Timestamp,
        reminder_offsets_minutes -> Text,
        exchange_allowed -> Integer,
        exchange_any_event -> Integer,
        exchange_fee_minor -> BigInt,
        transfer_allowed -> Integer,
        change_cutoff_minutes -> Integer,
        transfer_offer_hours -> Integer,
        refund_on_cancel -> Integer,
        lobby_message -> Nullable<Text>,
        barcode -> Text,
        rotation_seconds -> Integer,
        reveal_hours_before_doors -> Nullable<Integer>,
        venue_address -> Nullable<Text>,
        help_phone -> Nullable<Text>,
        help_email -> Nullable<Text>,
        no_show_credit_percent -> Nullable<Integer>,
        locale -> Text,
    }
}

diesel::table! {
    performances (id) {
        id -> BigInt,
        event_id -> BigInt,
        starts_at -> Timestamp,
        doors_open_at -> Timestamp,
        capacity -> BigInt,
        tickets_issued -> BigInt,
        created_at -> Timestamp,
        price_minor -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        canceled_at -> Nullable<Timestamp>,
        door_version -> BigInt,
        ends_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tickets (id) {
        id -> BigInt,
        performance_id -> BigInt,
        holder_name -> Text,
        holder_email -> Text,
        price_minor -> BigInt,
        currency -> Text,
        seat -> Nullable<Text>,
        section -> Nullable<Text>,
        status -> Text,
        generation -> Integer,
        external_ref -> Nullable<Text>,
        issued_at -> Timestamp,
        admitted_at -> Nullable<Timestamp>,
        admitted_gate -> Nullable<Text>,
        admitted_device -> Nullable<Text>,
        replaces_ticket_id -> Nullable<BigInt>,
        locale -> Text,
    }
}

diesel::table! {
    arrival_events (id) {
        id -> BigInt,
        ticket_id -> Nullable<BigInt>,
        performance_id -> Nullable<BigInt>,
        token_generation -> Nullable<Integer>,
        gate -> Text,
        device -> Text,
        outcome -> Text,
        scanned_at -> Timestamp,
        upload_key -> Nullable<Text>,
        uploaded_at -> Nullable<Timestamp>,
        device_refusal -> Nullable<Text>,
        code_kind -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (api_key_id, idempotency_key) {
        api_key_id -> BigInt,
        idempotency_key -> Text,
        request_fingerprint -> Text,
        ticket_ids -> Text,
        created_at -> Timestamp,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        kind -> Text,
        dedupe_key -> Text,
        ticket_id -> Nullable<BigInt>,
        detail -> Nullable<Text>,
        recipient -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
    }
}

diesel::table! {
    reminder_runs (performance_id, offset_minutes) {
        performance_id -> BigInt,
        offset_minutes -> Integer,
        queued -> BigInt,
        run_at -> Timestamp,
    }
}

diesel::table! {
    message_rules (id) {
        id -> BigInt,
        event_id -> BigInt,
        audience -> Text,
        anchor -> Text,
        offset_minutes -> Integer,
        purpose -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        translations -> Text,
    }
}

diesel::table! {
    message_runs (rule_id, performance_id) {
        rule_id -> BigInt,
        performance_id -> BigInt,
        queued -> BigInt,
        run_at -> Timestamp,
    }
}

diesel::table! {
    marketing_opt_outs (patron_email) {
        patron_email -> Text,
        opted_out_at -> Timestamp,
    }
}

diesel::table! {
    consent_changes (id) {
        id -> BigInt,
        patron_email -> Text,
        ticket_id -> Nullable<BigInt>,
        opted_out -> Integer,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    credit_accounts (patron_email, currency) {
        patron_email -> Text,
        currency -> Text,
        balance_minor -> BigInt,
    }
}

diesel::table! {
    credit_ledger (id) {
        id -> BigInt,
        patron_email -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        reason -> Text,
        ticket_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    transfers (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        generation -> Integer,
        from_name -> Text,
        from_email -> Text,
        to_name -> Text,
        to_email -> Text,
        status -> Text,
        offered_at -> Timestamp,
        expires_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        claimed_ticket_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    performance_cancellations (id) {
        id -> BigInt,
        performance_id -> BigInt,
        reason -> Text,
        refund_to_credit -> Integer,
        status -> Text,
        total -> BigInt,
        canceled -> BigInt,
        started_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        started_by -> Nullable<Text>,
    }
}

diesel::table! {
    ticket_cancellations (ticket_id) {
        ticket_id -> BigInt,
        reason -> Text,
        refund_minor -> BigInt,
        currency -> Text,
        cancellation_id -> Nullable<BigInt>,
        canceled_at -> Timestamp,
    }
}

diesel::table! {
    link_opens (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        purpose -> Text,
        opened_at -> Timestamp,
    }
}

diesel::table! {
    door_changes (id) {
        id -> BigInt,
        performance_id -> BigInt,
        ticket_id -> BigInt,
        generation -> Integer,
        status -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    staff_accounts (id) {
        id -> BigInt,
        email -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    staff_sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        staff_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    staff_password_links (token_hash) {
        token_hash -> Text,
        staff_id -> BigInt,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> BigInt,
        subject -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    change_authors (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        what -> Text,
        made_at -> Timestamp,
        made_by -> Text,
    }
}

diesel::joinable!(performances -> events (event_id));
diesel::joinable!(tickets -> performances (performance_id));
diesel::joinable!(arrival_events -> tickets (ticket_id));
diesel::joinable!(idempotency_keys -> api_keys (api_key_id));
diesel::table! {
    imports (id) {
        id -> Text,
        performance_id -> BigInt,
        staff_id -> BigInt,
        csv -> Text,
        total -> BigInt,
        done -> BigInt,
        status -> Text,
        report -> Nullable<Text>,
        error -> Nullable<Text>,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    wallet_passes (ticket_id) {
        ticket_id -> BigInt,
        digest -> Text,
        updated_at -> Timestamp,
        in_google -> Bool,
        notify_pending -> Bool,
    }
}

diesel::table! {
    apple_pass_registrations (device_library_id, ticket_id) {
        device_library_id -> Text,
        ticket_id -> BigInt,
        push_token -> Text,
        registered_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        url -> Text,
        kinds -> Text,
        secret -> Text,
        created_at -> Timestamp,
        failing_since -> Nullable<Timestamp>,
        last_success_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        endpoint_id -> BigInt,
        ticket_id -> Nullable<BigInt>,
        kind -> Text,
        data -> Text,
        occurred_at -> Timestamp,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));

diesel::joinable!(wallet_passes -> tickets (ticket_id));
diesel::joinable!(message_rules -> events (event_id));
diesel::joinable!(transfers -> tickets (ticket_id));
diesel::joinable!(staff_sessions -> staff_accounts (staff_id));
diesel::joinable!(staff_password_links -> staff_accounts (staff_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    signing_keys,
    events,
    performances,
    tickets,
    arrival_events,
    idempotency_keys,
    outbox,
    reminder_runs,
    message_rules,
    message_runs,
    marketing_opt_outs,
    consent_changes,
    credit_accounts,
    credit_ledger,
    transfers,
    door_changes,
    staff_accounts,
    staff_sessions,
    staff_password_links,
    sign_in_failures,
    change_authors,
    imports,
    wallet_passes,
    apple_pass_registrations,
    webhook_endpoints,
    webhook_deliveries,
);
