--- socialpush.time: calendar arithmetic on Unix seconds, with no dependency.
-- The one place for dates: HTTP dates (Retry-After, RFC 9110 section 5.6.7), the daily
-- resets of provider quotas (midnight UTC, midnight US Pacific), ISO 8601 stamps.
-- syntax: local time = require "socialpush.time"
local M = {}

local floor = math.floor

--- Days since 1970-01-01 of a proleptic Gregorian date (y, m 1-12, d 1-31).
-- syntax: days = time.days_from_civil(y, m, d)
function M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
end

--- The date of a day number: y, m, d (inverse of days_from_civil).
-- syntax: y, m, d = time.civil_from_days(days)
function M.civil_from_days(days)
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, d
end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8,
  Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

--- Unix seconds of an HTTP date in any of the three RFC 9110 forms (IMF-fixdate,
-- RFC 850, asctime), or nil.
-- syntax: t = time.parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT")
function M.parse_http_date(v)
  if type(v) ~= "string" then return nil end
  local d, mon, y, hh, mm, ss = v:match("^%a+, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d then      -- RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    d, mon, y, hh, mm, ss = v:match("^%a+, (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) GMT$")
    if y then y = tonumber(y) + (tonumber(y) < 70 and 2000 or 1900) end
  end
  if not d then      -- asctime: Sun Nov  6 08:49:37 1994
    mon, d, hh, mm, ss, y = v:match("^%a+ (%a%a%a) +(%d%d?) (%d%d):(%d%d):(%d%d) (%d%d%d%d)$")
  end
  local m = mon and MONTHS[mon]
  if not m then return nil end
  return M.days_from_civil(tonumber(y), m, tonumber(d)) * 86400 + tonumber(hh) * 3600
    + tonumber(mm) * 60 + tonumber(ss)
end

--- Seconds to wait from a Retry-After value: delta-seconds or an HTTP date (0 when the date
-- has passed); nil when absent or unreadable.
-- syntax: seconds = time.retry_after(value [, now])
function M.retry_after(v, now)
  if type(v) ~= "string" then return nil end
  v = v:match("^%s*(.-)%s*$")
  if v:match("^%d+$") then return tonumber(v) end
  local t = M.parse_http_date(v)
  if not t then return nil end
  local delta = t - (now or os.time())
  return delta > 0 and delta or 0
end

--- Seconds from now until the next midnight UTC (at least 1): LinkedIn's daily limits.
-- syntax: seconds = time.until_midnight_utc([now])
function M.until_midnight_utc(now)
  now = now or os.time()
  local left = 86400 - (now % 86400)
  return left < 1 and 1 or left
end

local function sunday(y, m, nth)   -- day number of the nth Sunday of a month
  local first = M.days_from_civil(y, m, 1)
  local wday = (first + 4) % 7     -- 1970-01-01 was a Thursday; 0 = Sunday
  return first + (7 - wday) % 7 + 7 * (nth - 1)
end

-- UTC offset (hours) of US Pacific time at t: PDT from the second Sunday of March 02:00
-- PST to the first Sunday of November 02:00 PDT, else PST
local function pacific_offset(t)
  local y = M.civil_from_days(floor((t - 8 * 3600) / 86400))
  local dst_on = sunday(y, 3, 2) * 86400 + 10 * 3600
  local dst_off = sunday(y, 11, 1) * 86400 + 9 * 3600
  return (t >= dst_on and t < dst_off) and -7 or -8
end

--- Seconds from now until the next midnight US Pacific time (YouTube's quota reset).
-- syntax: seconds = time.until_midnight_pacific([now])
function M.until_midnight_pacific(now)
  now = now or os.time()
  local off = pacific_offset(now)
  local midnight = (floor((now + off * 3600) / 86400) + 1) * 86400   -- on the local clock
  off = pacific_offset(midnight - off * 3600)   -- a DST change may fall before it
  return midnight - off * 3600 - now
end

--- Unix seconds of an ISO 8601 / RFC 3339 UTC stamp ("2026-12-03T17:14:32Z", fractions and
-- "+00:00" allowed, other offsets applied), or nil.
-- syntax: t = time.parse_iso8601(s)
function M.parse_iso8601(s)
  if type(s) ~= "string" then return nil end
  local y, m, d, hh, mm, ss, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil end
  rest = rest:gsub("^%.%d+", "")
  local off = 0
  if rest ~= "Z" and rest ~= "z" then
    local sign, oh, om = rest:match("^([%+%-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    off = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "+" and 1 or -1)
  end
  return M.days_from_civil(tonumber(y), tonumber(m), tonumber(d)) * 86400 + tonumber(hh) * 3600
    + tonumber(mm) * 60 + tonumber(ss) - off
end

--- An RFC 3339 UTC stamp of Unix seconds: "2026-12-03T17:14:32Z".
-- syntax: s = time.iso8601(t)
function M.iso8601(t)
  t = floor(t)
  local days = floor(t / 86400)
  local y, m, d = M.civil_from_days(days)
  local s = t - days * 86400
  return ("%04d-%02d-%02dT%02d:%02d:%02dZ"):format(y, m, d, floor(s / 3600), floor(s % 3600 / 60), s % 60)
end

return M
