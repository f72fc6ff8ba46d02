package redisstore

import (
	"strings"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts. Each touches the keys of one Redis Cluster slot only: a
// session script its session's hash, an index script the three keys of one
// user's index (which share a hash tag). What spans slots is done by the Go
// side in pipelines, ordered so that an interruption never leaves a live,
// reachable session out of its user's index.
//
// Replies are arrays whose first element is a status string, one of the
// status constants below. Scripts never return Lua booleans: a RESP3
// client would get them as booleans, a RESP2 one as nil or 1.
//
// Time: ARGV times are the caller's Now in Unix milliseconds, which is what
// metadata and deadlines are checked against; TTLs are set relative
// (PEXPIRE deadline-now), so the server's clock does not matter to them.
// The server's own TIME is used only where the caller's clock must not be
// trusted across processes: the age of a forwarding entry, and pruning the
// user index of sessions past their deadline.

// The statuses the scripts reply with. The Lua side never spells one out:
// each is a Lua local of the same name (NOTFOUND), defined by luaStatuses
// from these constants, so the two sides cannot drift apart
// (TestScriptStatuses checks that every script returns only these, and
// that each is returned by some script).
const (
	statusOK       = "OK"
	statusNotFound = "NOTFOUND" // missing, or not a live record
	statusExpired  = "EXPIRED"  // a record past its deadline
	statusFwd      = "FWD"      // a forwarding entry: successor, age
	statusCorrupt  = "CORRUPT"  // what this package does not write: what is bad
	statusLater    = "LATER"    // touchScript: a later request moved LastSeen
	statusTouched  = "TOUCHED"  // touchScript: the new deadline
	statusNone     = "NONE"     // takeScript: no such value; deleteScript: nothing to delete
	statusTaken    = "TAKEN"    // takeScript: the value
	statusExists   = "EXISTS"   // createScript: the ID is taken
	statusRevoked  = "REVOKED"  // createScript: a revocation tombstone bars the ID
	statusLost     = "LOST"     // restoreScript: the claim is no longer there to undo
	statusPending  = "PENDING"  // delete and revokeScript: nothing there, the ID now barred
	statusMoved    = "MOVED"    // delete and revokeScript: a forwarding entry or marker: successor
	statusDeleted  = "DELETED"  // delete and revokeScript: a record was deleted
	statusGone     = "GONE"     // revokeScript: nothing to revoke
	statusForeign  = "FOREIGN"  // revokeScript: not the user's record
)

// statuses are the status constants, as luaStatuses defines them.
var statuses = []string{
	statusOK, statusNotFound, statusExpired, statusFwd, statusCorrupt,
	statusLater, statusTouched, statusNone, statusTaken, statusExists,
	statusRevoked, statusLost, statusPending, statusMoved, statusDeleted,
	statusGone, statusForeign,
}

// luaStatuses defines each status as a Lua local whose name is its value:
// local OK, NOTFOUND, ... = 'OK', 'NOTFOUND', ...
var luaStatuses = "local " + strings.Join(statuses, ", ") +
	" = '" + strings.Join(statuses, "', '") + "'\n"

// scriptSources holds the text of every script newScript built, for
// TestScriptStatuses.
var scriptSources []string

// newScript builds a script from luaStatuses, luaLib and parts (helpers
// such as luaFields, then the script's own body).
func newScript(parts ...string) *redis.Script {
	src := luaStatuses + luaLib + strings.Join(parts, "")
	scriptSources = append(scriptSources, src)
	return redis.NewScript(src)
}

// luaLib is prepended to every script.
const luaLib = `
local function fmt(n) return string.format('%d', n) end

-- Marks a change of the script's session key (marks.go): sets and at
-- once deletes the write marker the last ARGV names, so that the tracking
-- announcement of the change names its writer. Every script that
-- changes a session key calls it once it has, and only then. pcall: in
-- a Cluster slot being migrated, a key that is not there may not be
-- written on this node; the change then goes unmarked, which only costs
-- the writer's cache its entry. Returns whether it marked.
local function mark()
  local m = ARGV[#ARGV]
  if m == '' then return false end
  local r = redis.pcall('SET', m, '')
  if type(r) == 'table' and r.err then return false end
  redis.call('DEL', m)
  return true
end

local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Calls cmd on key with args[from..to] in slices of step, so that no call
-- outgrows Lua's stack however many fields or members there are.
local function chunked(cmd, key, args, from, to, step)
  local i = from
  while i <= to do
    local j = math.min(i + step - 1, to)
    redis.call(cmd, key, unpack(args, i, j))
    i = j + 1
  end
end

-- An integer field as this package writes it (decimal digits, maybe a
-- sign), or nil: tonumber alone would take '1e3' or ' 12', which the Go
-- side would then reject.
local function int(v)
  if type(v) ~= 'string' or not string.match(v, '^%-?%d+$') or #v > 16 then return nil end
  return tonumber(v)
end

-- Bars an ID whose record may still be on its way (its creation in
-- flight): createScript refuses a key holding this tombstone, so an ID
-- revoked before its record landed never comes to life.
local function bar(key, ttl)
  redis.call('HSET', key, 'm:rev', '1')
  redis.call('PEXPIRE', key, ttl)
end

-- The copy of a record that a claim keeps in the forwarding entry or
-- marker it leaves (see claimScript), as a flat field/value list.
local function kept(flat)
  local rec = {}
  for i = 1, #flat, 2 do
    if string.sub(flat[i], 1, 2) == 'c:' then
      rec[#rec + 1] = string.sub(flat[i], 3)
      rec[#rec + 1] = flat[i + 1]
    end
  end
  return rec
end

local function fieldmap(flat)
  local f = {}
  for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
  return f
end

-- Checks a session hash's kind from its fields. Returns a reply to give
-- back unless the hash is a live record at now under its idle timeout,
-- and then nil with the parsed last-seen, absolute expiry and that idle
-- timeout: the record's own (m:idle) where it has one, else idle (the
-- call's). f needs m:idle and m:rem, which are checked, as are the times.
local function check(f, now, idle, dead)
  if f['m:next'] then
    local gend, at = int(f['m:gend']), int(f['m:at'])
    if not (gend and at) then return {CORRUPT, 'forwarding entry'} end
    if now >= gend then return {NOTFOUND} end
    return {FWD, f['m:next'], fmt(server_ms() - at)}
  end
  if f['m:gone'] or f['m:rev'] then return {NOTFOUND} end
  local ls, exp, dl = int(f['m:ls']), int(f['m:exp']), int(f['m:dl'])
  if not (ls and exp and dl and int(f['m:ct']) and int(f['m:it'])) then return {CORRUPT, 'metadata'} end
  if f['m:idle'] then
    idle = int(f['m:idle'])
    if not idle or idle <= 0 then return {CORRUPT, 'metadata'} end
  end
  if f['m:rem'] and f['m:rem'] ~= '1' then return {CORRUPT, 'metadata'} end
  if now >= dl or now >= math.min(ls + idle, exp) then return {dead} end
  return nil, ls, exp, idle
end
`

// luaFields is prepended to the scripts that check a record by its
// fields (with check) without reading all of it.
const luaFields = `
-- Reads from key's hash the fields check needs and, when given, one extra
-- field, in one HMGET. Returns them as a field map, and whether any of
-- them is there.
local function fields(key, extra)
  local names = {'m:next', 'm:gend', 'm:at', 'm:gone', 'm:rev', 'm:ls', 'm:exp', 'm:dl', 'm:ct', 'm:it', 'm:idle', 'm:rem'}
  if extra then names[#names + 1] = extra end
  local h = redis.call('HMGET', key, unpack(names))
  local f, any = {}, false
  for i, name in ipairs(names) do
    if h[i] then f[name], any = h[i], true end
  end
  return f, any
end
`

// touchScript: KEYS[1] session; ARGV now, idle, the write marker.
// Load's idle-deadline extension, run only past the touch window: it reads
// the metadata again (the record may have been renewed, revoked or expired
// since the HGETALL) and moves LastSeen and the TTL forward, never back,
// by the record's own idle timeout where it has one.
var touchScript = newScript(luaFields, `
local key = KEYS[1]
local f, any = fields(key)
if not any then return {NOTFOUND} end
local now, idle = tonumber(ARGV[1]), tonumber(ARGV[2])
local out, ls, exp, own = check(f, now, idle, EXPIRED)
if out then return out end
if now <= ls then return {LATER} end
local dl = math.min(now + own, exp)
redis.call('HSET', key, 'm:ls', ARGV[1], 'm:dl', fmt(dl))
redis.call('PEXPIRE', key, dl - now)
mark()
return {TOUCHED, fmt(dl)}
`)

// updateScript: KEYS[1] session; ARGV now, idle, clear (1/0), new absolute
// expiry (an empty string: unchanged), new own idle timeout (an empty
// string: unchanged; '0': none, the call's applies), #meta args, #del
// args, #set args, then the meta field/value pairs, the fields to delete
// (value fields, and the login's metadata fields a new Meta leaves
// unset), the value pairs to set, the write marker.
// Refuses, writing nothing, anything but a live record (live by its own
// idle timeout where it has one): a missing key is never recreated. The
// new deadline is by the new own idle timeout, or the record's, or the
// call's. Returns the user the record was bound to before, and the new
// deadline and absolute expiry, for the caller to move the session's
// entry in that user's expiry index, and '1' when the change was marked
// ('0' when not), which a write-through needs.
var updateScript = newScript(luaFields, `
local key = KEYS[1]
local f, any = fields(key, 'm:uid')
if not any and redis.call('EXISTS', key) == 0 then return {NOTFOUND} end
local now, idle = tonumber(ARGV[1]), tonumber(ARGV[2])
local out, ls, exp, own = check(f, now, idle, NOTFOUND)
if out then return out end
if ARGV[3] == '1' then
  local vals = {}
  for _, name in ipairs(redis.call('HKEYS', key)) do
    if string.sub(name, 1, 2) == 'v:' then vals[#vals + 1] = name end
  end
  chunked('HDEL', key, vals, 1, #vals, 500)
end
local nmeta, ndel, nset = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local mi = 9
local di = mi + nmeta
local si = di + ndel
if ARGV[4] ~= '' then exp = tonumber(ARGV[4]) end
if ARGV[5] ~= '' then
  own = tonumber(ARGV[5])
  if own <= 0 then own = idle end
end
local dl = math.min(now + own, exp)
if dl <= now then
  redis.call('DEL', key)
  mark()
  return {OK, f['m:uid'] or '', fmt(dl), fmt(exp), '0'}
end
chunked('HDEL', key, ARGV, di, di + ndel - 1, 500)
-- One HSET for the metadata, the values and the new deadline: a script
-- pays for every redis.call far more than for its arguments.
local w = {'m:ls', ARGV[1], 'm:dl', fmt(dl)}
for j = mi, di - 1 do w[#w + 1] = ARGV[j] end
for j = si, si + nset - 1 do w[#w + 1] = ARGV[j] end
chunked('HSET', key, w, 1, #w, 500)
redis.call('PEXPIRE', key, dl - now)
local marked = '0'
if mark() then marked = '1' end
return {OK, f['m:uid'] or '', fmt(dl), fmt(exp), marked}
`)

// takeScript: KEYS[1] session; ARGV now, idle, value field, the write
// marker.
// Removes one value field of a live record (live by its own idle timeout
// where it has one) and returns what it held, as
// one step, so of concurrent takes exactly one gets it. Refuses anything
// but a live record, writing nothing; leaves LastSeen and the TTL alone.
var takeScript = newScript(luaFields, `
local key = KEYS[1]
local f, any = fields(key, ARGV[3])
if not any then return {NOTFOUND} end
local out = check(f, tonumber(ARGV[1]), tonumber(ARGV[2]), NOTFOUND)
if out then return out end
local v = f[ARGV[3]]
if not v then return {NONE} end
redis.call('HDEL', key, ARGV[3])
mark()
return {TAKEN, v}
`)

// createScript: KEYS[1] session; ARGV ttl, again ('1' or '0'), then
// field/value pairs, then the write marker (marks.go). Creates the record
// only where nothing is: any entry makes the ID taken, and a revocation
// tombstone says the ID was revoked (a concurrent DeleteUser, eviction or
// Delete), maybe before its record arrived. With again = '1' (Renew's
// write of its new ID), a record with the very metadata being written is
// this write, run a second time: go-redis resends a round trip whose reply
// it lost, and the server may have run the first. The new ID is random and
// Renew's claim names it, so nothing else writes that record; its values
// are not compared, as a request following the forwarding entry may have
// written some since.
var createScript = newScript(`
local key = KEYS[1]
local ty = redis.call('TYPE', key)['ok']
if ty ~= 'none' then
  if ty ~= 'hash' then return {EXISTS} end
  if redis.call('HEXISTS', key, 'm:rev') == 1 then return {REVOKED} end
  if ARGV[2] ~= '1' then return {EXISTS} end
  local w = {}
  for i = 3, #ARGV - 2, 2 do w[ARGV[i]] = ARGV[i + 1] end
  local names = {'m:uid', 'm:ct', 'm:it', 'm:exp', 'm:ua', 'm:ip', 'm:idle', 'm:rem', 'm:lbl', 'm:md', 'm:bind'}
  local h = redis.call('HMGET', key, unpack(names))
  for i, name in ipairs(names) do
    -- HMGET gives false for a field that is not there, w nil.
    if (h[i] or nil) ~= w[name] then return {EXISTS} end
  end
  return {OK}
end
local ttl = tonumber(ARGV[1])
if ttl <= 0 then return {OK} end
chunked('HSET', key, ARGV, 3, #ARGV - 1, 500)
redis.call('PEXPIRE', key, ttl)
mark()
return {OK}
`)

// claimScript: KEYS[1] old session; ARGV now, idle, grace, newID, marker
// TTL (of the entry that marks a Renew without grace), the write marker
// (marks.go). Renew's first step and its exactly-one-winner guard: a live
// record (live by its own idle timeout where it has one) is read whole
// and, in the same step, replaced by a forwarding entry to newID whose
// grace ends at now + grace (or, without grace, by a marker
// that loads as missing). A second claim finds the forwarding entry or the
// marker and loses. Returns the record's fields and its expiry in server
// time.
//
// The entry also keeps a copy of the record (each field as 'c:' + name)
// and its expiry (m:till), and lives at least the marker TTL, until
// Renew's second round trip drops the copy and sets the entry's TTL to the
// grace period. The copy answers a claim run again with the same newID,
// which is this claim repeated (go-redis resends a round trip whose reply
// it lost, and the server may have run the first; no other Renew claims
// for the same random newID): it gets what the first got. The copy also
// lets a Renew that never got the reply undo the claim (restoreScript).
var claimScript = newScript(`
local key = KEYS[1]
local flat = redis.call('HGETALL', key)
if #flat == 0 then return {NOTFOUND} end
local f = fieldmap(flat)
if f['m:till'] and (f['m:next'] or f['m:gone']) == ARGV[4] then
  return {OK, kept(flat), f['m:till']}
end
local now = tonumber(ARGV[1])
local out = check(f, now, tonumber(ARGV[2]), EXPIRED)
if out then return out end
local srv = server_ms()
local pttl = redis.call('PTTL', key)
local till = -1
if pttl > 0 then till = srv + pttl end
redis.call('DEL', key)
local grace = tonumber(ARGV[3])
local w
if grace > 0 then
  w = {'m:next', ARGV[4], 'm:gend', fmt(now + grace), 'm:at', fmt(srv), 'm:till', fmt(till)}
else
  w = {'m:gone', ARGV[4], 'm:at', fmt(srv), 'm:till', fmt(till)}
end
for i = 1, #flat, 2 do
  w[#w + 1] = 'c:' .. flat[i]
  w[#w + 1] = flat[i + 1]
end
chunked('HSET', key, w, 1, #w, 500)
redis.call('PEXPIRE', key, math.max(grace, tonumber(ARGV[5])))
mark()
return {OK, flat, fmt(till)}
`)

// restoreScript: KEYS[1] old session; ARGV newID, then optionally the
// expiry (server ms, -1 none) and the record's field/value pairs, then
// the marker. Undoes a
// claim whose Renew could not complete, but only while the old key still
// holds this claim's forwarding entry or marker: a session deleted
// meanwhile stays deleted. Given newID alone (the claim's reply never
// arrived), it takes the record from the copy the claim kept, if the copy
// is still there.
var restoreScript = newScript(`
local key = KEYS[1]
local h = redis.call('HMGET', key, 'm:next', 'm:gone', 'm:till')
if h[1] ~= ARGV[1] and h[2] ~= ARGV[1] then return {LOST} end
local rec, till = {}, ARGV[2]
if #ARGV == 2 then
  if not h[3] then return {LOST} end
  till = h[3]
  rec = kept(redis.call('HGETALL', key))
else
  for i = 3, #ARGV - 1 do rec[#rec + 1] = ARGV[i] end
end
redis.call('DEL', key)
chunked('HSET', key, rec, 1, #rec, 500)
till = tonumber(till)
if till > 0 then redis.call('PEXPIREAT', key, till) end
mark()
return {OK}
`)

// deleteScript: KEYS[1] session; ARGV now, tombstone TTL, successor ('1'
// when a forwarding entry or marker named the ID, '0' for the ID Delete
// was given), the write marker (marks.go). One step of Delete's walk along
// a forwarding chain: deletes a record (whoever it is bound to), leaving a
// tombstone, and reports the user it was bound to and whether it was live
// at now; reports, and leaves in place, a forwarding entry or marker, so
// that the caller can still find the successor should the walk be
// interrupted, and deletes it once the successor is dealt with. A missing
// successor may be a renewal whose write is still in flight: it is barred,
// as revokeScript bars one. A revocation tombstone is left alone (it still
// guards against a write in flight); anything else this package did not
// write is deleted.
//
// The tombstone that replaces a deleted record stops a write of it that
// go-redis is still retrying (its first run landed, its reply did not)
// from bringing it back.
var deleteScript = newScript(`
local key = KEYS[1]
local ttl = tonumber(ARGV[2])
local ty = redis.call('TYPE', key)['ok']
if ty == 'none' then
  if ARGV[3] ~= '1' then return {NONE} end
  bar(key, ttl)
  mark()
  return {PENDING}
end
if ty ~= 'hash' then
  redis.call('DEL', key)
  mark()
  return {NONE}
end
local h = redis.call('HMGET', key, 'm:uid', 'm:ls', 'm:next', 'm:gone', 'm:rev', 'm:dl')
if h[5] then return {NONE} end
if h[3] or h[4] then return {MOVED, h[3] or h[4]} end
redis.call('DEL', key)
if not h[2] then
  mark()
  return {NONE}
end
bar(key, ttl)
mark()
local dl = tonumber(h[6])
if dl and dl > tonumber(ARGV[1]) then return {DELETED, h[1] or '', '1'} end
return {DELETED, h[1] or '', '0'}
`)

// unlinkScript: KEYS[1] a link Delete walked through; ARGV the write
// marker.
// Deletes it, marked: a link is a forwarding entry or marker when Delete
// finds it, but a Renew's undo (restoreScript) may have made it a live
// record again since, whose deletion must be announced as a change of
// this store's like any other.
var unlinkScript = newScript(`
if redis.call('DEL', KEYS[1]) == 1 then mark() end
return {OK}
`)

// revokeScript: KEYS[1] session; ARGV user, now, tombstone TTL, bar ('1'
// or '0'), the write marker (marks.go). Deletes a record bound to user
// (DeleteUser, cap eviction). A missing key may be a session whose
// creation is still in flight (its index entry was written first): a
// tombstone makes that creation fail, so a revoked ID can never come to
// life afterwards. With bar = '0' (its index entry is past its deadline,
// which no session in flight has) a missing key is left missing. A
// forwarding entry or marker is deleted and its successor reported, for
// the caller to revoke too: the session is moving to it right now. Another
// user's record is left alone. A deleted record leaves a tombstone too, as
// in deleteScript.
var revokeScript = newScript(`
local key = KEYS[1]
local ty = redis.call('TYPE', key)['ok']
if ty == 'none' then
  if ARGV[4] ~= '1' then return {GONE} end
  bar(key, tonumber(ARGV[3]))
  mark()
  return {PENDING}
end
if ty ~= 'hash' then return {FOREIGN} end
local h = redis.call('HMGET', key, 'm:uid', 'm:next', 'm:gone', 'm:rev', 'm:dl')
if h[4] then return {GONE} end
local succ = h[2] or h[3]
if succ then
  redis.call('DEL', key)
  mark()
  return {MOVED, succ}
end
if h[1] ~= ARGV[1] then return {FOREIGN} end
redis.call('DEL', key)
bar(key, tonumber(ARGV[3]))
mark()
local dl = tonumber(h[5])
if dl and dl > tonumber(ARGV[2]) then return {DELETED, '1'} end
return {DELETED, '0'}
`)

// indexAddScript: KEYS index (by creation), expiry (by deadline),
// evicting; ARGV id, created, expires, cap, removeID, mode ('nx' or 'set'),
// margin, deadline. Adds id to a user's index and, with a cap, picks the
// user's oldest sessions beyond it, all in one step, so concurrent
// additions can neither exceed the cap nor pick one victim twice. Victims
// move from the index to the evicting set until the caller has deleted
// them: they stay findable by ListUser and DeleteUser whatever happens to
// that deletion. Entries past their deadline (by server time, less a
// margin for clock skew) are dropped on the way: sessions that ended by
// idle timeout or lifetime. Returns whether id was added and the victims
// as (id, created, deadline) triples.
var indexAddScript = newScript(`
local ku, kx, ke = KEYS[1], KEYS[2], KEYS[3]
local id = ARGV[1]
local srv = server_ms()
local margin = tonumber(ARGV[7])
local dead = redis.call('ZRANGEBYSCORE', kx, '-inf', '(' .. fmt(srv - margin), 'LIMIT', 0, 100)
chunked('ZREM', ku, dead, 1, #dead, 500)
chunked('SREM', ke, dead, 1, #dead, 500)
chunked('ZREM', kx, dead, 1, #dead, 500)
if ARGV[5] ~= '' then
  redis.call('ZREM', ku, ARGV[5])
  redis.call('SREM', ke, ARGV[5])
  redis.call('ZREM', kx, ARGV[5])
end
local added
if ARGV[6] == 'nx' then
  added = redis.call('ZADD', ku, 'NX', ARGV[2], id)
  if added == 1 then redis.call('ZADD', kx, ARGV[8], id) end
else
  added = redis.call('ZADD', ku, ARGV[2], id)
  redis.call('ZADD', kx, ARGV[8], id)
end
local victims, gone = {}, {}
local cap = tonumber(ARGV[4])
if cap > 0 then
  local over = redis.call('ZCARD', ku) - cap
  if over > 0 then
    -- one spare, in case id itself is among the oldest
    for _, v in ipairs(redis.call('ZRANGE', ku, 0, over)) do
      if v ~= id and #gone < over then
        gone[#gone + 1] = v
        victims[#victims + 1] = v
        victims[#victims + 1] = redis.call('ZSCORE', ku, v)
        victims[#victims + 1] = redis.call('ZSCORE', kx, v) or '0'
      end
    end
    chunked('ZREM', ku, gone, 1, #gone, 500)
    chunked('SADD', ke, gone, 1, #gone, 500)
  end
end
-- The index lasts as long as its longest-lived member could: to the end
-- of its absolute lifetime (touches move deadlines, never beyond it).
local keep = math.max(tonumber(ARGV[3]) - srv, 0) + margin
for _, k in ipairs({ku, kx, ke}) do
  local p = redis.call('PTTL', k)
  if p == -1 or (p >= 0 and p < keep) then redis.call('PEXPIRE', k, keep) end
end
return {OK, fmt(added), victims}
`)

// indexPutScript: KEYS index, expiry, evicting; ARGV margin, n, then n IDs
// to remove, then (id, created, deadline) triples to put back. Removes
// entries whose sessions are known to be gone or someone else's, and undoes
// an indexAddScript whose write failed. A key it brings back to life gets a
// TTL again: the longest the index had, which covered every member's
// lifetime, or one past the last deadline.
var indexPutScript = newScript(`
local ku, kx, ke = KEYS[1], KEYS[2], KEYS[3]
local margin, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local had = math.max(redis.call('PTTL', ku), redis.call('PTTL', kx), redis.call('PTTL', ke))
chunked('ZREM', ku, ARGV, 3, n + 2, 500)
chunked('SREM', ke, ARGV, 3, n + 2, 500)
chunked('ZREM', kx, ARGV, 3, n + 2, 500)
if #ARGV > n + 2 then
  for i = n + 3, #ARGV - 2, 3 do
    redis.call('ZADD', ku, ARGV[i + 1], ARGV[i])
    redis.call('ZADD', kx, ARGV[i + 2], ARGV[i])
    redis.call('SREM', ke, ARGV[i])
  end
  local last = redis.call('ZRANGE', kx, -1, -1, 'WITHSCORES')
  local keep = math.max(had, margin)
  if #last == 2 then keep = math.max(keep, tonumber(last[2]) - server_ms() + margin) end
  for _, k in ipairs({ku, kx, ke}) do
    if redis.call('PTTL', k) == -1 then redis.call('PEXPIRE', k, keep) end
  end
end
return {OK}
`)

// indexPageScript: KEYS index, expiry, evicting; ARGV n, then n IDs to
// drop, then the page size, an ID to skip (DeleteUser's keepID, or an
// empty string) and the margin. One batch of DeleteUser: drops the entries
// of the sessions just revoked, and returns the next IDs to revoke (those
// being evicted first, then the oldest), at most a page of them, each with
// '1' when its deadline passed (by server time, less the margin), and how
// many entries are left, which bounds the number of batches. DeleteUser keeps
// each call to a page, so no script runs long however many sessions a
// user has: Redis runs one script at a time, and every other client waits
// for it.
var indexPageScript = newScript(`
local ku, kx, ke = KEYS[1], KEYS[2], KEYS[3]
local n = tonumber(ARGV[1])
chunked('ZREM', ku, ARGV, 2, n + 1, 500)
chunked('SREM', ke, ARGV, 2, n + 1, 500)
chunked('ZREM', kx, ARGV, 2, n + 1, 500)
local size, skip, margin = tonumber(ARGV[n + 2]), ARGV[n + 3], tonumber(ARGV[n + 4])
local ids, seen = {}, {}
local function take(from)
  for _, id in ipairs(from) do
    if #ids < size and id ~= skip and not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
end
take(redis.call('SRANDMEMBER', ke, size + 1))
take(redis.call('ZRANGE', ku, 0, size))
local page = {}
if #ids > 0 then
  local past = server_ms() - margin
  local dls = redis.call('ZMSCORE', kx, unpack(ids))
  for i, id in ipairs(ids) do
    local dl = tonumber(dls[i])
    page[#page + 1] = id
    page[#page + 1] = (dl and dl < past) and '1' or '0'
  end
end
local left = math.max(redis.call('ZCARD', kx), redis.call('ZCARD', ku) + redis.call('SCARD', ke))
return {OK, page, fmt(left)}
`)
