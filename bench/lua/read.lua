-- GET /api/shows/:id of the show in shows=FILE (first line); with path=seats, GET
-- /api/shows/:id/seats (its seat map); with target=/some/path, GET that path instead (the page
-- of shows, or the bare Fastify baseline). accept=… sends it as Accept-Encoding (a browser sends
-- "gzip, deflate, br"). Counts 200 as "read".
local common = dofile(string.match(debug.getinfo(1, "S").source, "^@(.*/)") .. "common.lua")

local req

function setup(thread)
  common.setup(thread)
end

function init(args)
  local options = common.init(args)
  local path = options.target
  if not path then
    path = "/api/shows/" .. common.read_lines(options.shows)[1]
    if options.path then path = path .. "/" .. options.path end
  end
  local headers = { ["Host"] = wrk.headers["Host"] }
  if options.accept then headers["Accept-Encoding"] = options.accept end
  req = wrk.format("GET", path, headers)
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
