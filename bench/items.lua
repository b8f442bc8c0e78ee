-- wrk script: OGC API items pages (100 parcels) in random 500 m boxes of a territory (WGS84).
-- Usage: wrk -t2 -c4 -d20s -s bench/items.lua http://127.0.0.1:8080 -- MINLON MINLAT MAXLON MAXLAT
local box
function init(args)
  box = { tonumber(args[1]), tonumber(args[2]), tonumber(args[3]), tonumber(args[4]) }
  math.randomseed(7)
end
function request()
  local lon = box[1] + math.random() * (box[3] - box[1] - 0.007)
  local lat = box[2] + math.random() * (box[4] - box[2] - 0.0045)
  return wrk.format("GET", string.format("/collections/parcels/items?limit=100&bbox=%.6f,%.6f,%.6f,%.6f",
    lon, lat, lon + 0.007, lat + 0.0045))
end
