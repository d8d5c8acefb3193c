-- wrk script: a different search on every request, so no two requests share a render.
-- Terms are common words of paper titles; a counter makes every query string unique, and
-- each wrk thread of each run counts in its own range (threads do not share Lua state, and
-- bench/run.sh runs this script twice: without distinct ranges a query would be asked twice,
-- and kept by the render cache as a feed that readers poll).
local words = {"model", "learning", "diffusion", "language", "attention", "neural", "training",
  "efficient", "graph", "vision", "transformer", "reasoning", "agent", "memory", "data",
  "image", "video", "tensor", "network", "quantization", "benchmark", "inference"}
local counter = 0
local threads = 0

local run = (os.time() % 100000) * 100000

setup = function(thread)
  threads = threads + 1
  thread:set("offset", threads * 100000000000 + run)
end

init = function(args)
  counter = offset or 0
end

request = function()
  counter = counter + 1
  local a = words[(counter % #words) + 1]
  local b = words[((counter * 7) % #words) + 1]
  local q = a .. "+OR+" .. b .. "+-x" .. counter
  return wrk.format("GET", wrk.path .. "&q=" .. q)
end
