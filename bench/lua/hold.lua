-- POST /api/shows/:id/book {"seats":1} on a show picked at random from shows=FILE (one id a
-- line; a single line for one hot show). Optional seats=N: {"seats":N} (on a seated show, the
-- best available N). Optional bodies=FILE: one JSON body a line instead, each request one of them
-- at random. Optional limit=N (with threads=T): N requests in all.
-- Counts 201 as "held", 409 as "sold_out".
local common = dofile(string.match(debug.getinfo(1, "S").source, "^@(.*/)") .. "common.lua")

local requests = {}

function setup(thread)
  common.setup(thread)
end

function init(args)
  local options = common.init(args)
  local bodies = { string.format('{"seats":%d}', tonumber(options.seats or "1")) }
  if options.bodies then bodies = common.read_lines(options.bodies) end
  for _, show in ipairs(common.read_lines(options.shows)) do
    for _, body in ipairs(bodies) do
      table.insert(requests, wrk.format("POST", "/api/shows/" .. show .. "/book",
        { ["Host"] = wrk.headers["Host"], ["Content-Type"] = "application/json" }, body))
    end
  end
end

function request()
  if not common.may_send() then return "" end
  if #requests == 1 then return requests[1] end
  return requests[math.random(#requests)]
end

function response(status, headers, body)
  common.count(status, (status == 201 and "held") or (status == 409 and "sold_out") or nil)
end

function done(summary, latency, requests)
  common.done(summary, latency, requests)
end
