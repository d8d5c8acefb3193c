//! The Lua scripts the shared server runs, each in one step, so that instances cannot race
//! between reading and writing.

use std::sync::LazyLock;

use redis::Script;

/// Deletes the lock `KEYS[1]` only while it holds this instance's token `ARGV[1]` (a lock
/// that expired and was taken by another instance is left alone).
pub static UNLOCK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
        end
        return 0
        ",
    )
});

/// The shared upstream budget, a sorted set `KEYS[1]` of requests scored by their time in
/// milliseconds. ARGV: now, window (ms), limit, always (1 or 0), a unique entry. Drops what
/// left the window; when fewer than the limit remain (or always), counts the request and
/// returns -1; else returns the time of the oldest counted request.
pub static TAKE_BUDGET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        if ARGV[4] ~= '1' and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
            local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
            return tonumber(oldest[2])
        end
        redis.call('ZADD', KEYS[1], now, ARGV[5])
        redis.call('PEXPIRE', KEYS[1], window)
        return -1
        ",
    )
});
