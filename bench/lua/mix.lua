-- On-sale mix on the show in shows=FILE: each 201 hold is followed, on some connection of
-- the same thread, by POST /api/bookings/:id/confirm (confirm=0.6 of holds), .../cancel
-- (cancel=0.1) or nothing (the rest: abandoned), with its hold_token in X-Hold-Token.
-- response() reads id and hold_token from the 201 body and queues the follow-up; request()
-- sends a queued follow-up when there is one, else a new hold. Counts "held" (201),
-- "confirmed" and "cancelled" (200 with that status), "abandoned" (holds left alone).
local common = dofile(string.match(debug.getinfo(1, "S").source, "^@(.*/)") .. "common.lua")

local hold
local host
local confirm_share, cancel_share
local queue, first, last = {}, 1, 0

function setup(thread)
  common.setup(thread)
end

function init(args)
  local options = common.init(args)
  host = wrk.headers["Host"]
  confirm_share = tonumber(options.confirm or "0.6")
  cancel_share = tonumber(options.cancel or "0.1")
  hold = wrk.format("POST", "/api/shows/" .. common.read_lines(options.shows)[1] .. "/book",
    { ["Host"] = host, ["Content-Type"] = "application/json" }, '{"seats":1}')
end

function request()
  if not common.may_send() then return "" end
  if first <= last then
    local follow_up = queue[first]
    queue[first] = nil
    first = first + 1
    return follow_up
  end
  return hold
end

function response(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"id":"([^"]+)"')
    local token = string.match(body, '"hold_token":"([^"]+)"')
    local action
    local r = math.random()
    if r < confirm_share then
      action = "confirm"
    elseif r < confirm_share + cancel_share then
      action = "cancel"
    end
    if id and token then
      if action then
        last = last + 1
        queue[last] = "POST /api/bookings/" .. id .. "/" .. action .. " HTTP/1.1\r\nHost: " .. host
          .. "\r\nX-Hold-Token: " .. token .. "\r\nContent-Length: 0\r\n\r\n"
      else
        common.tally("abandoned")
      end
      common.count(status, "held")
    else
      common.count(status, "unreadable")
    end
    return
  end
  if status == 200 then
    if string.find(body, '"status":"CONFIRMED"', 1, true) then
      common.count(status, "confirmed")
    elseif string.find(body, '"status":"CANCELLED"', 1, true) then
      common.count(status, "cancelled")
    else
      common.count(status, nil)
    end
    return
  end
  common.count(status, nil)
end

function done(summary, latency, requests)
  common.done(summary, latency, requests)
end
