-- Shared by the bench's wrk scripts (loaded with dofile from beside the script).
--
-- Arguments come after wrk's `--` as key=value words; each thread reads them in init().
-- Per thread: counters of answers by status, and by names a script chooses, and an
-- optional limit of requests: the thread stops issuing once its share is sent, and when
-- every one of them is answered it stops and prints BENCH_THREAD_DONE on stderr (wrk's
-- main thread sleeps for the whole -d otherwise: the runner sends SIGINT once every
-- thread has said so). done() sums the threads' counts and prints one line on stdout:
--   BENCH_RESULT {"requests":…,"duration_us":…,"statuses":{"201":…},"counts":{…},"latency_us":{…},"errors":{…}}

local M = {}

local threads = {}

-- Main state: called once per thread before it starts. Numbers the threads from 1.
function M.setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

-- Thread state: key=value arguments, the thread's share of the limit, the counters.
function M.init(args)
  local options = {}
  for _, word in pairs(args) do
    local key, value = string.match(word, "^([%w_]+)=(.*)$")
    if key then options[key] = value end
  end
  count_keys, sent, answered = "", 0, 0
  math.randomseed(os.time() * 1000 + thread_number)
  local limit = tonumber(options.limit)
  local nthreads = tonumber(options.threads) or 1
  if limit then
    M.share = math.floor(limit / nthreads)
    if thread_number <= limit % nthreads then M.share = M.share + 1 end
  end
  -- wrk calls request() once on the first thread before it runs, to check the request
  -- parses; that one is never sent, so it is not counted against the thread's share.
  M.unsent = thread_number == 1 and 1 or 0
  return options
end

-- Thread state: true while this thread may send another request (and counts it as sent).
function M.may_send()
  if M.unsent > 0 then
    M.unsent = M.unsent - 1
    return true
  end
  if M.share and sent >= M.share then return false end
  sent = sent + 1
  return true
end

-- The counters are plain globals named c_<key> (listed in count_keys), because wrk's
-- thread:get copies numbers and strings safely but crashes on some tables.
local globals = {}

local function bump(key)
  local name = globals[key]
  if not name then
    name = "c_" .. key
    globals[key] = name
    if _G[name] == nil then
      _G[name] = 0
      count_keys = count_keys .. key .. ","
    end
  end
  _G[name] = _G[name] + 1
end

-- Counts a name without counting an answer.
function M.tally(name)
  bump(name)
end

-- Counts an answer by its status, and by name when one is given.
function M.count(status, name)
  bump(status)
  if name then bump(name) end
  answered = answered + 1
  if M.share and answered == M.share then
    io.stderr:write("BENCH_THREAD_DONE " .. thread_number .. "\n")
    io.stderr:flush()
    wrk.thread:stop()
  end
end

local function json_object(map)
  local parts = {}
  for key, value in pairs(map) do
    table.insert(parts, string.format('"%s":%d', tostring(key), value))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- Main state: sums the threads' counters; latency in µs, as wrk records it.
function M.done(summary, latency, requests)
  local statuses, named, total_sent = {}, {}, 0
  for _, thread in ipairs(threads) do
    for key in string.gmatch(thread:get("count_keys"), "([^,]+),") do
      local n = thread:get("c_" .. key)
      local into = string.match(key, "^%d+$") and statuses or named
      into[key] = (into[key] or 0) + n
    end
    total_sent = total_sent + thread:get("sent")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"sent":%d,"duration_us":%d,"statuses":%s,"counts":%s,'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    summary.requests, total_sent, summary.duration, json_object(statuses), json_object(named),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout))
end

-- A list of show ids, one a line, from the file the runner wrote.
function M.read_lines(file)
  local lines = {}
  for line in io.lines(file) do
    if line ~= "" then table.insert(lines, line) end
  end
  assert(#lines > 0, "no lines in " .. file)
  return lines
end

return M
