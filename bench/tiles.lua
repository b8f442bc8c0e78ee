-- wrk script: round-robin over a list of tile paths (one per line), each thread from its own
-- offset. Usage: wrk -t2 -c32 -d20s -s bench/tiles.lua http://127.0.0.1:PORT -- PATHS_FILE
local paths = {}
local i = 0
local counter = 0
function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  i = offset or 0
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
