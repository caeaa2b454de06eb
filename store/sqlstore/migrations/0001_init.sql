-- PageDesk sqlstore schema, version 1.
-- Applied by (*sqlstore.Store).Migrate with search_path set to the store's
-- schema, so table names are unqualified here.
--
-- Ids are COLLATE "C": they compare byte by byte, as Go compares strings,
-- whatever the database's locale, so lists ordered by (time, id) agree
-- with every other store (see store.Page).

-- channels: one row per channel, deleted ones included (their history stays).
CREATE TABLE channels (
    id                 text COLLATE "C"  PRIMARY KEY,
    service_id         text COLLATE "C"  NOT NULL,
    page_id            text COLLATE "C"  NOT NULL,
    page_name          text              NOT NULL DEFAULT '',
    name               text              NOT NULL DEFAULT '',
    status             text              NOT NULL
        CHECK (status IN ('active', 'paused', 'disconnected', 'deleted')),
    disconnect_reason  text              NOT NULL DEFAULT '',
    disconnected_at    timestamptz,
    -- page_token holds the Page token as UTF-8 (page_token_format 0) or
    -- sealed with AES-256-GCM (format 1: 12-byte nonce, then ciphertext and
    -- tag; the channel id is the additional data). Empty once deleted.
    page_token         bytea             NOT NULL DEFAULT '\x',
    page_token_format  smallint          NOT NULL DEFAULT 0 CHECK (page_token_format IN (0, 1)),
    dispatch           jsonb             NOT NULL DEFAULT '{}',
    auto_reply         jsonb             NOT NULL DEFAULT '{}',
    custom_info_on     boolean           NOT NULL DEFAULT false,
    custom_info_text   text              NOT NULL DEFAULT '',
    human_agent        boolean           NOT NULL DEFAULT false,
    last_webhook_at    timestamptz,
    created_at         timestamptz       NOT NULL,
    updated_at         timestamptz       NOT NULL,
    version            bigint            NOT NULL DEFAULT 1,
    -- next_turn is the round-robin counter handed out by NextTurn; it is not
    -- a setting and does not move version.
    next_turn          bigint            NOT NULL DEFAULT 0
);
-- CONN-6: at most one channel that is not deleted holds a Page.
CREATE UNIQUE INDEX channels_live_page_key ON channels (page_id) WHERE status <> 'deleted';
CREATE INDEX channels_service_idx ON channels (service_id, created_at, id) WHERE status <> 'deleted';

-- visitors: one row per (channel, PSID).
CREATE TABLE visitors (
    channel_id         text COLLATE "C"  NOT NULL,
    psid               text COLLATE "C"  NOT NULL,
    first_name         text              NOT NULL DEFAULT '',
    last_name          text              NOT NULL DEFAULT '',
    profile_pic        text              NOT NULL DEFAULT '',
    profile_fetched_at timestamptz,
    first_seen_at      timestamptz       NOT NULL,
    last_inbound_at    timestamptz,
    PRIMARY KEY (channel_id, psid)
);
CREATE INDEX visitors_psid_idx ON visitors (psid);

-- enquiries: one row per enquiry.
CREATE TABLE enquiries (
    id                 text COLLATE "C"  PRIMARY KEY,
    service_id         text COLLATE "C"  NOT NULL,
    channel_id         text COLLATE "C"  NOT NULL,
    psid               text COLLATE "C"  NOT NULL,
    status             text              NOT NULL
        CHECK (status IN ('queued', 'offered', 'taken', 'closed')),
    staff_id           text COLLATE "C"  NOT NULL DEFAULT '',
    offered_to         text[]            NOT NULL DEFAULT '{}',
    opened_at          timestamptz       NOT NULL,
    taken_at           timestamptz,
    closed_at          timestamptz,
    last_inbound_at    timestamptz,
    last_outbound_at   timestamptz,
    away_sent          boolean           NOT NULL DEFAULT false,
    version            bigint            NOT NULL DEFAULT 1,
    CHECK (status <> 'taken' OR staff_id <> '')
);
-- Promise 1: at most one open enquiry per (channel, visitor).
CREATE UNIQUE INDEX enquiries_one_open_key ON enquiries (channel_id, psid) WHERE status <> 'closed';
CREATE INDEX enquiries_service_status_idx ON enquiries (service_id, status, opened_at, id);
CREATE INDEX enquiries_service_open_idx ON enquiries (service_id, opened_at, id) WHERE status <> 'closed';
CREATE INDEX enquiries_visitor_idx ON enquiries (channel_id, psid, opened_at DESC, id DESC);

-- service_locks: one row per service, locked (SELECT ... FOR UPDATE) by
-- every Take so that counting the service's taken enquiries and taking one
-- more is a single step across all processes (RULE-4).
CREATE TABLE service_locks (
    service_id         text COLLATE "C"  PRIMARY KEY
);

-- messages: the conversation, in the order recorded (seq).
CREATE TABLE messages (
    seq                bigint            GENERATED ALWAYS AS IDENTITY,
    id                 text COLLATE "C"  PRIMARY KEY,
    enquiry_id         text COLLATE "C",  -- NULL: the item joined no enquiry
    channel_id         text COLLATE "C"  NOT NULL,
    psid               text COLLATE "C"  NOT NULL,
    -- inbound: recorded by RecordInbound, and so deduplicated by key;
    -- outbound messages may carry a key but are not deduplicated by it.
    inbound            boolean           NOT NULL DEFAULT false,
    key                text COLLATE "C"  NOT NULL DEFAULT '',
    kind               text              NOT NULL DEFAULT '',
    direction          text              NOT NULL DEFAULT '',
    author             text              NOT NULL DEFAULT '',
    staff_id           text COLLATE "C"  NOT NULL DEFAULT '',
    mid                text COLLATE "C"  NOT NULL DEFAULT '',
    text               text              NOT NULL DEFAULT '',
    attachments        jsonb,
    payload            text              NOT NULL DEFAULT '',
    reply_to           text              NOT NULL DEFAULT '',
    reaction           text              NOT NULL DEFAULT '',
    state              text              NOT NULL DEFAULT '',
    error              text              NOT NULL DEFAULT '',
    created_at         timestamptz       NOT NULL
);
-- Promise 2: an inbound item is recorded at most once by its key, per channel.
CREATE UNIQUE INDEX messages_inbound_key_key ON messages (channel_id, key) WHERE inbound;
CREATE INDEX messages_enquiry_idx ON messages (enquiry_id, seq);
CREATE INDEX messages_mid_idx ON messages (channel_id, mid, seq) WHERE mid <> '';
CREATE INDEX messages_outbound_idx ON messages (channel_id, psid, created_at) WHERE direction = 'out';
CREATE INDEX messages_psid_idx ON messages (psid);
