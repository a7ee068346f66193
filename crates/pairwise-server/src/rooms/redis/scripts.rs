//! The Lua scripts that change a room: each runs atomically in Redis, so two nodes joining the
//! same room at once never both see it with room to spare, and exactly one of two joiners
//! learns of the other from its own script (the other is told by a `peer-joined`).
//!
//! A room is the hash `pw:room:<room id>`: field `<node>:<conn>`, value the lease's end in
//! milliseconds of Redis's own clock (`TIME`), so nodes' clocks never need to agree. Every
//! script drops members that are gone (lease ended, or their node no longer subscribed); the
//! key itself expires with its newest lease, so a room whose nodes all died leaves nothing
//! behind.

use redis::Script;

/// What every script starts with: `now` in ms of Redis's clock, and `live(member, lease end)`:
/// whether the lease still runs and the member's node still listens on its channel. A node
/// whose process ended has no subscriber any more, so its members are gone at once rather
/// than when their leases end (a page that was on it rejoins from another node and must not
/// find its own former self there, holding the second place).
const PRELUDE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local listening = {}
local function live(member, ends)
  if tonumber(ends) <= now then
    return false
  end
  local node = string.match(member, '^(%x+):')
  if node == nil then
    return false
  end
  if listening[node] == nil then
    listening[node] = redis.call('PUBSUB', 'NUMSUB', 'pw:node:' .. node)[2] > 0
  end
  return listening[node]
end
";

/// `KEYS[1]` room, `ARGV` member, lease (ms), room size. Returns `{"ok", others...}` with the
/// member added, or `{"full"}`.
const JOIN: &str = r"
local lease = tonumber(ARGV[2])
local others = {'ok'}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if not live(fields[i], fields[i + 1]) then
    redis.call('HDEL', KEYS[1], fields[i])
  elseif fields[i] ~= ARGV[1] then
    others[#others + 1] = fields[i]
  end
end
if #others - 1 >= tonumber(ARGV[3]) then
  return {'full'}
end
redis.call('HSET', KEYS[1], ARGV[1], now + lease)
redis.call('PEXPIRE', KEYS[1], lease)
return others
";

/// `KEYS[1]` room, `ARGV[1]` member. Returns `{"left", others...}` when the member was in the
/// room, `{"absent", others...}` when it was not (its lease had ended and another node dropped
/// it, and told its peer).
const LEAVE: &str = r"
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
local out = {removed == 1 and 'left' or 'absent'}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if not live(fields[i], fields[i + 1]) then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    out[#out + 1] = fields[i]
  end
end
return out
";

/// `KEYS` rooms, `ARGV[1]` lease (ms), `ARGV[1 + i]` this node's members in `KEYS[i]`
/// (space-separated). Extends those members' leases and, for each room, returns
/// `{others, lost}`: the live members of other nodes, and this node's members that are no
/// longer in the room (their lease ended while this node could not renew it).
const RENEW: &str = r"
local lease = tonumber(ARGV[1])
local out = {}
for k = 1, #KEYS do
  local mine = {}
  for m in string.gmatch(ARGV[k + 1], '%S+') do
    mine[m] = true
  end
  local others, lost, renewed = {}, {}, false
  local fields = redis.call('HGETALL', KEYS[k])
  for i = 1, #fields, 2 do
    local m = fields[i]
    if mine[m] then
      redis.call('HSET', KEYS[k], m, now + lease)
      mine[m] = nil
      renewed = true
    elseif not live(m, fields[i + 1]) then
      redis.call('HDEL', KEYS[k], m)
    else
      others[#others + 1] = m
    end
  end
  if renewed then
    redis.call('PEXPIRE', KEYS[k], lease)
  end
  for m in pairs(mine) do
    lost[#lost + 1] = m
  end
  out[k] = {others, lost}
end
return out
";

/// The three scripts, hashed once; [`Script`] sends the hash and falls back to the source
/// when Redis does not know it (after a restart).
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) join: Script,
    pub(crate) leave: Script,
    pub(crate) renew: Script,
}

impl Default for Scripts {
    fn default() -> Self {
        let script = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
        Self {
            join: script(JOIN),
            leave: script(LEAVE),
            renew: script(RENEW),
        }
    }
}

/// The key of a room's hash.
pub(crate) fn room_key(room: &pairwise_proto::ids::RoomId) -> String {
    format!("pw:room:{}", room.as_str())
}
