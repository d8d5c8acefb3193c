-- wrk script for bench/archive.sh: a sweep over a list of dates, one per request, cycling.
-- The dates come from a file, one YYYY-MM-DD a line, named after `--`:
--   wrk ... -s bench/archive-sweep.lua 'http://H:P/feed.atom?days=1' -- DATES_FILE
-- Each wrk thread starts at its own place in the list (threads do not share Lua state;
-- thread k of n starts k/n of the way through), so the threads do not ask the same date at
-- the same time; after a whole cycle dates are asked again (render-cache hits if still kept).
local dates = {}
local position = 0
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("index", threads)
end

init = function(args)
  local file = args[1]
  if not file then
    error("archive-sweep.lua: give the dates file after --")
  end
  for line in io.lines(file) do
    if line:match("^%d%d%d%d%-%d%d%-%d%d$") then
      dates[#dates + 1] = line
    end
  end
  if #dates == 0 then
    error("archive-sweep.lua: no dates in " .. file)
  end
  -- threads are numbered 1, 2, ...; golden-ratio spacing works for any thread count
  local k = (index or 1) - 1
  position = math.floor(#dates * ((k * 0.6180339887) % 1))
end

request = function()
  position = position % #dates + 1
  return wrk.format("GET", wrk.path .. "&date=" .. dates[position])
end
