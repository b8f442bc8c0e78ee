-- wrk script: /v1/who at random points of a box (WGS84), seeded so runs compare.
-- Usage: wrk -t2 -c32 -d20s -s bench/who.lua http://127.0.0.1:8080 -- MINLON MINLAT MAXLON MAXLAT
local box
function init(args)
  box = { tonumber(args[1]), tonumber(args[2]), tonumber(args[3]), tonumber(args[4]) }
  math.randomseed(42 + (wrk.thread and 0 or 0))
end
function request()
  local lon = box[1] + math.random() * (box[3] - box[1])
  local lat = box[2] + math.random() * (box[4] - box[2])
  return wrk.format("GET", string.format("/v1/who?lon=%.6f&lat=%.6f", lon, lat))
end
