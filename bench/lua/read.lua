-- GET /api/shows/:id of the show in shows=FILE (first line); with path=seats, GET
-- /api/shows/:id/seats (its seat map). Counts 200 as "read".
local common = dofile(string.match(debug.getinfo(1, "S").source, "^@(.*/)") .. "common.lua")

local req

function setup(thread)
  common.setup(thread)
end

function init(args)
  local options = common.init(args)
  local path = "/api/shows/" .. common.read_lines(options.shows)[1]
  if options.path then path = path .. "/" .. options.path end
  req = wrk.format("GET", path, { ["Host"] = wrk.headers["Host"] })
end

function request()
  if not common.may_send() then return "" end
  return req
end

function response(status, headers, body)
  common.count(status, status == 200 and "read" or nil)
end

function done(summary, latency, requests)
  common.done(summary, latency, requests)
end
