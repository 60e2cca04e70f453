import { LuaScript } from './lua-script.js';

/*
 * A key whose value is its holder's token (a lease, a lock, a claim): renewed or deleted only
 * by the holder, so a late one never extends or frees what another now holds.
 * KEYS[1] the key, ARGV[1] the token; RENEW_IF_OWNED takes the new TTL in ms as ARGV[2].
 */
export const RENEW_IF_OWNED = new LuaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`);
export const DELETE_IF_OWNED = new LuaScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`);
