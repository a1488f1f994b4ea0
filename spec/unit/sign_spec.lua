-- socialpush.sign: every vector of shared/VECTORS.md it can express (§3.1-3.4, 3.6-3.10),
-- then properties and misuse. Expected values are the published ones, never our output.
local sign = require "socialpush.sign"
local errors = require "socialpush.errors"

local function unhex(h)
  return (h:gsub("%s", ""):gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

-- a test name for bytes: control and non-ASCII bytes as \ddd (keeps TAP lines whole)
local function show(s)
  return '"' .. s:gsub("[%c\128-\255]", function(c) return ("\\%d"):format(c:byte()) end) .. '"'
end

local function rep_byte(b, n) return string.rep(string.char(b), n) end

local function bytes(list)
  local out = {}
  for i, b in ipairs(list) do out[i] = string.char(b) end
  return table.concat(out)
end

-- the parts of a signature base string: method, encoded URI, encoded parameters
local function base_parts(base)
  return base:match("^([^&]*)&([^&]*)&([^&]*)$")
end

-- application/x-www-form-urlencoded body -> list of {k, v} (RFC 5849 §3.4.1.3.1)
local function parse_form(body)
  local out = {}
  for seg in body:gmatch("[^&]+") do
    local k, eq, v = seg:match("^([^=]*)(=?)(.*)$")
    out[#out + 1] = { assert(sign.form_decode(k)), eq == "" and "" or assert(sign.form_decode(v)) }
  end
  return out
end

local function merge(a, b)
  local t = {}
  for k, v in pairs(a) do t[k] = v end
  for k, v in pairs(b or {}) do t[k] = v end
  return t
end

-- §3.1 RFC 5849 §1.2
local RFC = { consumer_key = "dpf43f3p2l4k3l03", consumer_secret = "kd94hf93k423kf44", realm = "Photos",
  version = false }

local RFC_REQUESTS = {
  { name = "temporary credentials", req = { method = "POST", url = "https://photos.example.net/initiate",
    timestamp = "137131200", nonce = "wIjqoS", callback = "http://printer.example.com/ready" },
    signature = "74KNZJeDHnMBp0EMJ9ZHt/XKycU=",
    base = "POST&https%3A%2F%2Fphotos.example.net%2Finitiate&oauth_callback%3Dhttp%253A%252F%252Fprinter.exa"
      .. "mple.com%252Fready%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DwIjqoS%26oauth_signat"
      .. "ure_method%3DHMAC-SHA1%26oauth_timestamp%3D137131200" },
  { name = "token", req = { method = "POST", url = "https://photos.example.net/token", token = "hh5s93j4hdidpola",
    token_secret = "hdhd0244k9j7ao03", timestamp = "137131201", nonce = "walatlh", verifier = "hfdp7dh39dks9884" },
    signature = "gKgrFCywp7rO0OXSjdot/IHF7IU=",
    base = "POST&https%3A%2F%2Fphotos.example.net%2Ftoken&oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonc"
      .. "e%3Dwalatlh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dh"
      .. "h5s93j4hdidpola%26oauth_verifier%3Dhfdp7dh39dks9884" },
  { name = "resource", req = { method = "GET", url = "http://photos.example.net/photos?file=vacation.jpg&size=original",
    token = "nnch734d00sl2jdk", token_secret = "pfkkdhi9sl3r4s00", timestamp = "137131202", nonce = "chapoH" },
    signature = "MdpQcU8iPSUjWoN/UDMsK2sui9I=",
    base = "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p"
      .. "2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1371312"
      .. "02%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal" },
}

-- §3.3 X docs "Creating a signature"
local X = {
  method = "POST",
  params = { status = "Hello Ladies + Gentlemen, a signed OAuth request!" },
  consumer_key = "xvz1evFS4wEEPTGEFPHBog",
  consumer_secret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
  token = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
  token_secret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
  nonce = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
  timestamp = "1318622958",
}
local X_HOSTS = {
  { url = "https://api.x.com/1.1/statuses/update.json?include_entities=true", sig = "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=" },
  { url = "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
    sig = "hCtSmYh+iHYCEqBWrE7C7hYmtUk=" },
  { url = "https://api.twitter.com/1/statuses/update.json?include_entities=true",
    sig = "tnnArxj06cWHq44gCs1OSKk/jLY=" },
}
local X_BASE = "POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_cons"
  .. "umer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26o"
  .. "auth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxM"
  .. "AgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%"
  .. "2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
local X_PARAMS = "include_entities=true&oauth_consumer_key=xvz1evFS4wEEPTGEFPHBog&oauth_nonce=kYjzVBB8Y0ZFabxSWbWo"
  .. "vY3uYSQ2pTgmZeNu2VS4cg&oauth_signature_method=HMAC-SHA1&oauth_timestamp=1318622958&oauth_token=3"
  .. "70773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb&oauth_version=1.0&status=Hello%20Ladies%20%2B%"
  .. "20Gentlemen%2C%20a%20signed%20OAuth%20request%21"
local X_HEADER = 'OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", '
  .. 'oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", oauth_signature="tnnArxj06cWHq44gCs1OSKk%2FjLY%3D", '
  .. 'oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", '
  .. 'oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"'

-- anchors/c/bench_case.h: the benchmark case with a fixed nonce and time
local BENCH = merge(X, {
  url = "https://api.x.com/1.1/statuses/update.json?include_entities=true",
  params = {
    status = "Hello Ladies + Gentlemen, a signed OAuth request! \240\159\154\128",
    lat = "37.7821120598956",
    long = "-122.400612831116",
    media_ids = "1455952740635586573,1455952740635586574",
  },
  nonce = "fixednonce123", timestamp = "1700000000",
})

describe("socialpush.sign", function()
  describe("OAuth 1.0a, RFC 5849 §1.2", function()
    for _, case in ipairs(RFC_REQUESTS) do
      it(case.name .. " request", function()
        local r = assert(sign.oauth1(merge(RFC, case.req)))
        assert.are.equal(case.base, r.base_string)
        assert.are.equal(case.signature, r.signature)
        assert.are.equal('OAuth realm="Photos", ', r.header:sub(1, 22))
        assert.truthy(r.header:find('oauth_signature="' .. sign.percent_encode(case.signature) .. '"', 1, true))
        assert.is_nil(r.base_string:find("realm", 1, true))
        assert.is_nil(r.header:find("oauth_version", 1, true))
      end)
    end

    it("signs protocol parameters given in params once: they replace the computed ones", function()
      -- the X documentation's example request, with every oauth_* value among the parameters
      local params = { status = X.params.status, oauth_version = "1.0", oauth_nonce = X.nonce,
        oauth_timestamp = X.timestamp, oauth_signature_method = "HMAC-SHA1",
        oauth_consumer_key = X.consumer_key, oauth_token = X.token }
      local r = assert(sign.oauth1(merge(X, { url = X_HOSTS[1].url, params = params, nonce = false,
        timestamp = false })))
      assert.are.equal(X_BASE, r.base_string)
      assert.are.equal(X_HOSTS[1].sig, r.signature)
      local _, n = r.base_string:gsub("oauth_version", "")
      assert.are.equal(1, n)
      -- as a pair list too, and the cheaper header call agrees
      local list = { { "status", X.params.status }, { "oauth_version", "1.0" }, { "oauth_nonce", X.nonce },
        { "oauth_timestamp", X.timestamp } }
      assert.are.equal(r.header, sign.oauth1_header(merge(X, { url = X_HOSTS[1].url, params = list,
        nonce = false, timestamp = false })))
    end)

    it("refuses an oauth_signature or a contradicting oauth_* in params", function()
      for _, bad in ipairs { { oauth_signature = "x" }, { oauth_consumer_key = "other" },
          { oauth_token = "other" }, { oauth_signature_method = "PLAINTEXT" } } do
        local r, msg, err = sign.oauth1(merge(X, { url = X_HOSTS[1].url, params = bad }))
        assert.is_nil(r)
        assert.are.equal("invalid_argument", err.kind, msg)
        assert.are.equal("params", err.field)
      end
    end)

    it("resource request with oauth_version=1.0 (derived value)", function()
      local r = assert(sign.oauth1(merge(merge(RFC, RFC_REQUESTS[3].req), { version = "1.0" })))
      assert.are.equal("1IAE9RzK+DqSqVTdQ/0zWANXVzs=", r.signature)
      -- the default is oauth_version="1.0", as X sends
      local req = merge(RFC, RFC_REQUESTS[3].req)
      req.version = nil
      local d = assert(sign.oauth1(req))
      assert.are.equal(r.signature, d.signature)
      assert.truthy(d.header:find('oauth_version="1.0"', 1, true))
    end)

    it("builds the whole header: realm first, then oauth_* sorted", function()
      local r = assert(sign.oauth1(merge(RFC, RFC_REQUESTS[3].req)))
      assert.are.equal('OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_nonce="chapoH", '
        .. 'oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D", oauth_signature_method="HMAC-SHA1", '
        .. 'oauth_timestamp="137131202", oauth_token="nnch734d00sl2jdk"', r.header)
      local t = assert(sign.oauth1(merge(RFC, RFC_REQUESTS[1].req)))
      assert.truthy(t.header:find('realm="Photos", oauth_callback="http%3A%2F%2Fprinter.example.com%2Fready", '
        .. 'oauth_consumer_key=', 1, true))
    end)
  end)

  describe("OAuth 1.0a, RFC 5849 §3.4.1 base string", function()
    local req = {
      method = "POST", url = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
      params = parse_form("c2&a3=2+q"), realm = "Example", version = false,
      consumer_key = "9djdj82h48djs9d2", consumer_secret = "unpublished", token = "kkk9d7dh3k39sjv7",
      token_secret = "unpublished", timestamp = "137131201", nonce = "7d8f3e4a",
    }

    it("decodes the form body with + as a space", function()
      assert.are.same({ { "c2", "" }, { "a3", "2 q" } }, req.params)
    end)

    it("gives the published base string and normalized parameters", function()
      local r = assert(sign.oauth1(req))
      assert.are.equal("POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D"
        .. "%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a"
        .. "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7",
        r.base_string)
      local _, _, params = base_parts(r.base_string)
      assert.are.equal("a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2"
        .. "&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201"
        .. "&oauth_token=kkk9d7dh3k39sjv7", assert(sign.percent_decode(params)))
      assert.are.equal('OAuth realm="Example", ', r.header:sub(1, 23))
    end)

    local URIS = {
      { "http://EXAMPLE.COM:80/r%20v/X?id=123", "http://example.com/r%20v/X" },       -- published
      { "https://www.example.net:8080/?q=1", "https://www.example.net:8080/" },       -- published
      { "HTTPS://Api.X.com:443/Path/A#frag", "https://api.x.com/Path/A" },
      { "http://example.com:443/", "http://example.com:443/" },
      { "https://example.com:80/", "https://example.com:80/" },
      { "http://example.com", "http://example.com/" },
      { "http://example.com?x=1", "http://example.com/" },
      { "http://example.com:/p", "http://example.com/p" },
      { "http://user:pw@example.com/p", "http://example.com/p" },
      { "http://[::1]:8080/p", "http://[::1]:8080/p" },
      { "http://[::1]:80/p", "http://[::1]/p" },
    }
    for _, row in ipairs(URIS) do
      it("base string URI of " .. row[1], function()
        local r = assert(sign.oauth1(merge(req, { url = row[1], params = {} })))
        local _, uri = base_parts(r.base_string)
        assert.are.equal(sign.percent_encode(row[2]), uri)
      end)
    end
  end)

  describe("OAuth 1.0a, X docs example", function()
    for _, row in ipairs(X_HOSTS) do
      it(row.url, function()
        local r = assert(sign.oauth1(merge(X, { url = row.url })))
        assert.are.equal(row.sig, r.signature)
      end)
    end

    it("base string, parameter string and signing key", function()
      local r = assert(sign.oauth1(merge(X, { url = X_HOSTS[1].url })))
      assert.are.equal(X_BASE, r.base_string)
      local _, _, params = base_parts(r.base_string)
      assert.are.equal(X_PARAMS, sign.percent_decode(params))
      -- the signature is HMAC-SHA1 keyed by the published signing key
      assert.are.equal(unhex("2ECF778498996D0DDA905DC7177C75073F3FCD4E"), sign.base64_decode(r.signature))
      assert.are.equal(r.signature, sign.base64(sign.hmac_sha1(
        "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw&LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE", r.base_string)))
    end)

    it("gives the docs' Authorization header", function()
      local r = assert(sign.oauth1(merge(X, { url = X_HOSTS[3].url })))
      assert.are.equal(X_HEADER, r.header)
    end)

    it("accepts the docs' raw form body (lowercase %2b / %2c)", function()
      local body = "status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21"
      local params = parse_form(body)
      assert.are.same({ { "status", "Hello Ladies + Gentlemen, a signed OAuth request!" } }, params)
      local r = assert(sign.oauth1(merge(X, { url = X_HOSTS[2].url, params = params })))
      assert.are.equal("hCtSmYh+iHYCEqBWrE7C7hYmtUk=", r.signature)
    end)

    it("oauth1_header gives exactly the docs' header, and oauth1's errors", function()
      assert.are.equal(X_HEADER, assert(sign.oauth1_header(merge(X, { url = X_HOSTS[3].url }))))
      local bench = assert(sign.oauth1_header(BENCH))
      assert.are.equal(assert(sign.oauth1(BENCH)).header, bench)
      assert.truthy(bench:find('oauth_signature="6Q0ewHdoJ2guhXCIB3bTbNIQ6V0%3D"', 1, true))
      local h, msg, err = sign.oauth1_header(merge(X, { url = "not a url" }))
      local r2, msg2, err2 = sign.oauth1(merge(X, { url = "not a url" }))
      assert.is_nil(h)
      assert.is_nil(r2)
      assert.are.equal(msg2, msg)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal(err2.field, err.field)
      assert.has_error(function() sign.oauth1_header { method = "POST" } end)
      -- fresh nonce and timestamp on every call when none is given
      local a = assert(sign.oauth1_header(merge(X, { url = X_HOSTS[1].url, nonce = false,
        timestamp = false })))
      local b = assert(sign.oauth1_header(merge(X, { url = X_HOSTS[1].url, nonce = false,
        timestamp = false })))
      assert.are_not.equal(a:match('oauth_nonce="([^"]+)"'), b:match('oauth_nonce="([^"]+)"'))
    end)

    it("signs the anchor benchmark case (bench_case.h)", function()
      local r = assert(sign.oauth1(BENCH))
      assert.are.equal("6Q0ewHdoJ2guhXCIB3bTbNIQ6V0=", r.signature)
      assert.are.equal("1700000000", r.timestamp)
      assert.are.equal("fixednonce123", r.nonce)
    end)
  end)

  describe("percent-encoding", function()
    local ROWS = {
      { "abcABC123", "abcABC123" }, { "-._~", "-._~" }, { "%", "%25" }, { "+", "%2B" },
      { "&=*", "%26%3D%2A" }, { "\n", "%0A" }, { " ", "%20" }, { "\127", "%7F" },
      { "\194\128", "%C2%80" }, { "\227\128\129", "%E3%80%81" },
      { "Ladies + Gentlemen", "Ladies%20%2B%20Gentlemen" }, { "An encoded string!", "An%20encoded%20string%21" },
      { "Dogs, Cats & Mice", "Dogs%2C%20Cats%20%26%20Mice" }, { "\226\152\131", "%E2%98%83" },
      { "!*'()", "%21%2A%27%28%29" }, { "", "" }, { "a\0b", "a%00b" },
    }
    for _, row in ipairs(ROWS) do
      it(show(row[1]), function()
        assert.are.equal(row[2], sign.percent_encode(row[1]))
        assert.are.equal(row[1], sign.percent_decode(row[2]))
        local lower = row[2]:gsub("%%(%x%x)", function(h) return "%" .. h:lower() end)
        assert.are.equal(row[1], sign.percent_decode(lower))
      end)
    end

    it("keeps exactly the unreserved set", function()
      for b = 0, 255 do
        local c = string.char(b)
        local want = c:find("^[A-Za-z0-9%-%._~]$") and c or ("%%%02X"):format(b)
        assert.are.equal(want, sign.percent_encode(c))
      end
    end)

    it("decodes lowercase hex and keeps + (form_decode makes it a space)", function()
      assert.are.equal("Hello Ladies + Gentlemen,", sign.percent_decode("Hello%20Ladies%20%2b%20Gentlemen%2c"))
      assert.are.equal("a+b c", sign.percent_decode("a+b%20c"))
      assert.are.equal("a b c", sign.form_decode("a+b%20c"))
      assert.are.equal("+", sign.form_decode("%2B"))
    end)

    for _, bad in ipairs { "%", "%2", "a%zz", "%g0", "100%", "%%41" } do
      it("refuses malformed " .. bad, function()
        for _, f in ipairs { sign.percent_decode, sign.form_decode } do
          local s, msg, err = f(bad)
          assert.is_nil(s)
          assert.matches("malformed percent%-encoding at byte %d+", msg)
          assert.is_true(errors.is(err, "invalid_argument"))
        end
      end)
    end
  end)

  describe("HMAC-SHA-256, RFC 4231", function()
    local CASES = {
      { rep_byte(0x0b, 20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
      { "Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
      { rep_byte(0xaa, 20), rep_byte(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
      { unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), rep_byte(0xcd, 50),
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
      { rep_byte(0x0c, 20), "Test With Truncation", "a3b6167473100ee06e0c796c2955552b" },
      { rep_byte(0xaa, 131), "Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
      { rep_byte(0xaa, 131), "This is a test using a larger than block-size key and a larger than block-size data."
        .. " The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
    }
    for i, c in ipairs(CASES) do
      it("case " .. i, function()
        local mac = sign.hmac_sha256(c[1], c[2])
        assert.are.equal(32, #mac)
        assert.are.equal(c[3], sign.hex(mac):sub(1, #c[3]))   -- case 5 is truncated to 128 bits
      end)
    end
  end)

  describe("HMAC-SHA-1, RFC 2202", function()
    local CASES = {
      { rep_byte(0x0b, 20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
      { "Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
      { rep_byte(0xaa, 20), rep_byte(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
      { unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), rep_byte(0xcd, 50),
        "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
      { rep_byte(0x0c, 20), "Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
      { rep_byte(0x0c, 20), "Test With Truncation", "4c1a03424b55e07fe7f27be1" },  -- 96-bit truncation
      { rep_byte(0xaa, 80), "Test Using Larger Than Block-Size Key - Hash Key First",
        "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
      { rep_byte(0xaa, 80), "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
        "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
    }
    for i, c in ipairs(CASES) do
      it("case " .. i, function()
        local mac = sign.hmac_sha1(c[1], c[2])
        assert.are.equal(20, #mac)
        assert.are.equal(c[3], sign.hex(mac):sub(1, #c[3]))
      end)
    end

    it("alternating keys give the same results (per-thread key cache)", function()
      local a = sign.hmac_sha1("Jefe", "what do ya want for nothing?")
      local b = sign.hmac_sha1(rep_byte(0x0b, 20), "Hi There")
      assert.are.equal(a, sign.hmac_sha1("Jefe", "what do ya want for nothing?"))
      assert.are.equal(b, sign.hmac_sha1(rep_byte(0x0b, 20), "Hi There"))
      assert.are.equal("fbdb1d1b18aa6c08324b7d64b71fb76370690e1d", sign.hex(sign.hmac_sha1("", "")))
      assert.are.equal("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
        sign.hex(sign.hmac_sha256("", "")))
    end)
  end)

  describe("digests (FIPS 180 / RFC 1321 examples)", function()
    it("sha1, sha256, md5", function()
      assert.are.equal("a9993e364706816aba3e25717850c26c9cd0d89d", sign.hex(sign.sha1("abc")))
      assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", sign.hex(sign.sha256("abc")))
      assert.are.equal("d41d8cd98f00b204e9800998ecf8427e", sign.hex(sign.md5("")))
      assert.are.equal("900150983cd24fb0d6963f7d28e17f72", sign.hex(sign.md5("abc")))
    end)
  end)

  describe("base encodings, RFC 4648 §10", function()
    local ROWS = { { "", "", "" }, { "f", "Zg==", "66" }, { "fo", "Zm8=", "666F" }, { "foo", "Zm9v", "666F6F" },
      { "foob", "Zm9vYg==", "666F6F62" }, { "fooba", "Zm9vYmE=", "666F6F6261" },
      { "foobar", "Zm9vYmFy", "666F6F626172" } }
    for _, row in ipairs(ROWS) do
      it(show(row[1]), function()
        assert.are.equal(row[2], sign.base64(row[1]))
        assert.are.equal(row[1], sign.base64_decode(row[2]))
        assert.are.equal(row[2]:gsub("=", ""), sign.base64url(row[1]))
        assert.are.equal(row[1], sign.base64_decode((row[2]:gsub("=", ""))))
        assert.are.equal(row[3]:lower(), sign.hex(row[1]))
      end)
    end

    it("uses the §5 alphabet for base64url", function()
      assert.are.equal("+/+/", sign.base64("\251\255\191"))
      assert.are.equal("-_-_", sign.base64url("\251\255\191"))
      assert.are.equal("\251\255\191", sign.base64_decode("-_-_"))
      assert.are.equal("\251\255\191", sign.base64_decode("+/+/"))
    end)

    it("round-trips every byte value", function()
      local all = {}
      for b = 0, 255 do all[#all + 1] = string.char(b) end
      all = table.concat(all)
      for n = 0, 7 do
        local s = all:sub(1, 249 + n)
        assert.are.equal(s, sign.base64_decode(sign.base64(s)))
        assert.are.equal(s, sign.base64_decode(sign.base64url(s)))
      end
    end)

    for _, bad in ipairs { "Z", "Zg=", "Zm9v!", "Zg==Zg==", "Zm9vY", "=", "Zm 9v", "Zg===" } do
      it("refuses " .. show(bad), function()
        local s, msg, err = sign.base64_decode(bad)
        assert.is_nil(s)
        assert.matches("^base64_decode: invalid", msg)
        assert.is_true(errors.is(err, "invalid_argument"))
      end)
    end
  end)

  describe("PKCE, RFC 7636 appendix B", function()
    local octets = bytes { 116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
      77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121 }
    local verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    it("verifier and S256 challenge", function()
      assert.are.equal(verifier, sign.base64url(octets))
      assert.are.equal(bytes { 19, 211, 30, 150, 26, 26, 216, 236, 47, 22, 177, 12, 76, 152, 46, 8, 118, 168, 120,
        173, 109, 241, 68, 86, 110, 225, 137, 74, 203, 112, 249, 195 }, sign.sha256(verifier))
      assert.are.equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", sign.pkce_challenge(verifier))
    end)

    it("pkce() makes a fresh 43-character verifier and its challenge", function()
      local v1, c1 = sign.pkce()
      local v2 = sign.pkce()
      assert.are.equal(43, #v1)
      assert.is_nil(v1:find("[^%w%-_]"))
      assert.are.equal(sign.pkce_challenge(v1), c1)
      assert.are_not.equal(v1, v2)
    end)

    it("refuses a verifier outside RFC 7636 §4.1", function()
      assert.has_error(function() sign.pkce_challenge("short") end)
      assert.has_error(function() sign.pkce_challenge(verifier .. "!") end)
      assert.has_error(function() sign.pkce_challenge(nil) end)
    end)
  end)

  describe("appsecret_proof", function()
    it("both rows of VECTORS §3.10", function()
      assert.are.equal("b2d7d3730f94e0ff60d3741ef00e4160d7227dc1962d0c3d2c498b937b222843",
        sign.appsecret_proof("EAATestAccessToken", "test_app_secret"))
      assert.are.equal("d851810fbe7c8e742976c40a1bdd7bf436e7bf7ec12f43e5a851aaa9c3bc3eaf",
        sign.appsecret_proof("EAATestAccessToken", "test_app_secret", 1700000000))
      assert.are.equal("d851810fbe7c8e742976c40a1bdd7bf436e7bf7ec12f43e5a851aaa9c3bc3eaf",
        sign.appsecret_proof("EAATestAccessToken", "test_app_secret", "1700000000"))
    end)

    it("is RFC 4231 case 2 with the arguments swapped", function()
      assert.are.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        sign.appsecret_proof("what do ya want for nothing?", "Jefe"))
    end)

    it("raises on misuse without quoting the secret", function()
      local ok, msg = pcall(sign.appsecret_proof, "tok", 12345)
      assert.is_false(ok)
      assert.matches("bad argument #2", msg)
      ok, msg = pcall(sign.appsecret_proof, "tok", "s3cr3t-value", 1.5)
      assert.is_false(ok)
      assert.is_nil(msg:find("s3cr3t", 1, true))
    end)
  end)

  describe("legacy_sig (Facebook REST)", function()
    it("is md5 of sorted k=v pairs then the secret", function()
      local want = sign.hex(sign.md5("api_key=abcformat=JSONmethod=stream.publishv=1.0SECRET"))
      assert.are.equal(want, sign.legacy_sig({ v = "1.0", method = "stream.publish", format = "JSON",
        api_key = "abc" }, "SECRET"))
      assert.are.equal(want, sign.legacy_sig({ { "method", "stream.publish" }, { "v", "1.0" },
        { "api_key", "abc" }, { "format", "JSON" } }, "SECRET"))
    end)

    it("sorts by bytes, keeps values raw, tostrings numbers", function()
      assert.are.equal(sign.hex(sign.md5("B=1a=x y&zb=2s")), sign.legacy_sig({ b = 2, a = "x y&z", B = 1 }, "s"))
    end)

    it("raises for table values and a non-string secret", function()
      assert.has_error(function() sign.legacy_sig({ a = {} }, "s") end)
      assert.has_error(function() sign.legacy_sig({ a = "1" }, nil) end)
      assert.has_error(function() sign.legacy_sig("a=1", "s") end)
    end)
  end)

  describe("random", function()
    it("gives n bytes, different each call", function()
      for _, n in ipairs { 0, 1, 16, 32, 1000, 9000, 65536 } do
        assert.are.equal(n, #sign.random(n))
      end
      assert.are_not.equal(sign.random(32), sign.random(32))
    end)

    it("bounds n", function()
      assert.are.equal(1048576, #sign.random(1048576))
      for _, bad in ipairs { -1, 1048577, 1.5, 0 / 0, "8", nil } do
        assert.has_error(function() sign.random(bad) end)
      end
    end)
  end)

  describe("oauth1 properties", function()
    local base = { method = "POST", url = "https://api.example.com/1/x", consumer_key = "ck",
      consumer_secret = "S3cr3tConsumer", token = "tk", token_secret = "S3cr3tToken" }

    it("generates nonce and timestamp when absent, a new nonce each call", function()
      local seen = {}
      for _ = 1, 50 do
        local r = assert(sign.oauth1(base))
        assert.truthy(r.nonce:find("^%w+$"))
        assert.is_true(#r.nonce >= 32)
        assert.is_nil(seen[r.nonce])
        seen[r.nonce] = true
        assert.truthy(r.header:find('oauth_nonce="' .. r.nonce .. '"', 1, true))
        assert.truthy(r.header:find('oauth_timestamp="' .. r.timestamp .. '"', 1, true))
        assert.is_true(math.abs(tonumber(r.timestamp) - os.time()) <= 5)
      end
    end)

    it("signs params given as a map or as a list of pairs alike", function()
      local m = assert(sign.oauth1(merge(BENCH, {})))
      local l = assert(sign.oauth1(merge(BENCH, { params = {
        { "media_ids", BENCH.params.media_ids }, { "status", BENCH.params.status },
        { "long", BENCH.params.long }, { "lat", BENCH.params.lat } } })))
      assert.are.equal(m.header, l.header)
      assert.are.equal(m.base_string, l.base_string)
    end)

    it("keeps duplicate keys, sorted by encoded value", function()
      local r = assert(sign.oauth1(merge(base, { nonce = "n", timestamp = 1, url = "https://h/p?a=z&a=%7E",
        params = { { "a", "b" }, { "a", "B" }, { "a", "\194\128" } } })))
      local _, _, p = base_parts(r.base_string)
      -- "%C2%80" < "B" < "b" < "z" < "~" in byte order after encoding
      assert.are.equal("a=%C2%80&a=B&a=b&a=z&a=~&oauth_consumer_key=ck", sign.percent_decode(p):sub(1, 46))
    end)

    it("never signs oauth_signature from the query", function()
      local r = assert(sign.oauth1(merge(base, { nonce = "n", timestamp = 1,
        url = "https://h/p?oauth_signature=abc&x=1" })))
      assert.is_nil(r.base_string:find("oauth_signature%3D", 1, true))
      assert.truthy(r.base_string:find("x%3D1", 1, true))
    end)

    it("agrees with a straightforward Lua implementation on generated requests", function()
      math.randomseed(5849)
      local function rnd_bytes(n)
        local t = {}
        for i = 1, n do t[i] = string.char(math.random(0, 255)) end
        return table.concat(t)
      end
      local function less(a, b)
        if a[1] ~= b[1] then return a[1] < b[1] end
        return a[2] < b[2]
      end
      for _ = 1, 60 do
        local params, pairs_ = {}, {}
        for j = 1, math.random(0, 40) do
          local k, v = rnd_bytes(math.random(0, 6)), rnd_bytes(math.random(0, 30))
          params[j] = { k, v }
          pairs_[j] = { sign.percent_encode(k), sign.percent_encode(v) }
        end
        local cs, ts = rnd_bytes(math.random(0, 20)), rnd_bytes(math.random(0, 20))
        local req = { method = "put", url = "https://Example.org/a%20b/c", params = params, consumer_key = "k",
          consumer_secret = cs, token_secret = ts, nonce = "n0", timestamp = "7", version = false }
        for _, kv in ipairs { { "oauth_consumer_key", "k" }, { "oauth_nonce", "n0" },
          { "oauth_signature_method", "HMAC-SHA1" }, { "oauth_timestamp", "7" } } do
          pairs_[#pairs_ + 1] = kv
        end
        table.sort(pairs_, less)
        local parts = {}
        for i, kv in ipairs(pairs_) do parts[i] = kv[1] .. "=" .. kv[2] end
        local want = "PUT&" .. sign.percent_encode("https://example.org/a%20b/c") .. "&"
          .. sign.percent_encode(table.concat(parts, "&"))
        local r = assert(sign.oauth1(req))
        assert.are.equal(want, r.base_string)
        local key = sign.percent_encode(cs) .. "&" .. sign.percent_encode(ts)
        assert.are.equal(sign.base64(sign.hmac_sha1(key, want)), r.signature)
      end
    end)

    it("handles large requests (heap work area, many params)", function()
      local params = {}
      for i = 1, 500 do params["k" .. i] = string.rep("v ", i) end
      params.big = string.rep("\255", 100000)
      local r = assert(sign.oauth1(merge(base, { params = params, nonce = "n", timestamp = 1 })))
      assert.truthy(r.base_string:find("&big%3D%25FF%25FF", 1, true))
      assert.are.equal(r.signature, sign.base64(sign.hmac_sha1("S3cr3tConsumer&S3cr3tToken", r.base_string)))
    end)

    it("tostrings numeric values, also thousands of them, in map and list form", function()
      local a = assert(sign.oauth1(merge(base, { nonce = "n", timestamp = 1, params = { a = 1, b = 2.5 } })))
      local b = assert(sign.oauth1(merge(base, { nonce = "n", timestamp = 1,
        params = { { "a", "1" }, { "b", "2.5" } } })))
      assert.are.equal(b.base_string, a.base_string)
      local map, list = {}, {}
      for i = 1, 3000 do
        map["n" .. i] = i
        list[i] = { "n" .. i, i }
      end
      collectgarbage()
      local m = assert(sign.oauth1(merge(base, { nonce = "n", timestamp = 1, params = map })))
      local l = assert(sign.oauth1(merge(base, { nonce = "n", timestamp = 1, params = list })))
      assert.are.equal(m.base_string, l.base_string)
      assert.truthy(m.base_string:find("%26n2999%3D2999%26", 1, true))
    end)

    it("uses key cs& without a token, and omits oauth_token", function()
      local r = assert(sign.oauth1 { method = "POST", url = "https://h/x", consumer_key = "ck",
        consumer_secret = "c s", nonce = "n", timestamp = "1" })
      assert.are.equal(sign.base64(sign.hmac_sha1("c%20s&", r.base_string)), r.signature)
      assert.is_nil(r.header:find("oauth_token", 1, true))
      assert.is_nil(r.base_string:find("oauth_token", 1, true))
    end)

    it("supports PLAINTEXT and HMAC-SHA256", function()
      local p = assert(sign.oauth1(merge(base, { signature_method = "PLAINTEXT", consumer_secret = "a&b",
        token_secret = "c" })))
      assert.are.equal("a%26b&c", p.signature)
      assert.truthy(p.header:find('oauth_signature="a%2526b%26c"', 1, true))
      assert.truthy(p.header:find('oauth_signature_method="PLAINTEXT"', 1, true))
      local h = assert(sign.oauth1(merge(base, { signature_method = "HMAC-SHA256" })))
      assert.are.equal(sign.base64(sign.hmac_sha256("S3cr3tConsumer&S3cr3tToken", h.base_string)), h.signature)
      assert.truthy(h.base_string:find("HMAC-SHA256", 1, true))
    end)

    it("uppercases the method and accepts a numeric timestamp", function()
      local a = assert(sign.oauth1(merge(base, { method = "post", nonce = "n", timestamp = 1318622958 })))
      local b = assert(sign.oauth1(merge(base, { method = "POST", nonce = "n", timestamp = "1318622958" })))
      assert.are.equal(b.base_string, a.base_string)
      assert.are.equal("POST&", a.base_string:sub(1, 5))
    end)

    it("quotes the realm and refuses control characters in it", function()
      local r = assert(sign.oauth1(merge(base, { realm = 'a"b\\c' })))
      assert.are.equal('OAuth realm="a\\"b\\\\c", ', r.header:sub(1, 23))
      local s, msg, err = sign.oauth1(merge(base, { realm = "a\r\nX-Evil: 1" }))
      assert.is_nil(s)
      assert.matches("realm", msg)
      assert.are.equal("realm", err.field)
    end)

    local BAD_URLS = { "nohost", "/relative/path", "api.x.com/1.1/x", "http:///path", "http://", "://x/y",
      "1http://h/", "http://h:99999/", "http://h:8o/", "http://h o/", "http://h/p\n", "http://[::1/",
      "http://h/p?a=%zz", "http://h/p?%=1" }
    for _, url in ipairs(BAD_URLS) do
      it("returns invalid_argument for url " .. show(url), function()
        local r, msg, err = sign.oauth1(merge(base, { url = url }))
        assert.is_nil(r)
        assert.matches("^oauth1: url ", msg)
        assert.is_true(errors.is(err, "invalid_argument"))
        assert.are.equal("url", err.field)
        assert.are.equal(msg, tostring(err))
      end)
    end

    it("returns invalid_argument for a bad method", function()
      for _, m in ipairs { "", "PO ST", "GET&x", ("X"):rep(40) } do
        local r, _, err = sign.oauth1(merge(base, { method = m }))
        assert.is_nil(r)
        assert.are.equal("method", err.field)
      end
    end)

    local MISUSE = {
      { "non-string consumer_secret", { consumer_secret = 12345 }, "consumer_secret" },
      { "table consumer_secret", { consumer_secret = {} }, "consumer_secret" },
      { "missing consumer_key", { consumer_key = false }, "consumer_key" },
      { "missing url", { url = false }, "url" },
      { "table param value", { params = { media = { 1 } } }, "params value for 'media'" },
      { "boolean param value", { params = { a = true } }, "params value for 'a'" },
      { "non-string param key", { params = { [2.5] = "x" } }, "params keys" },
      { "mixed params", { params = { { "a", "b" }, x = "y" } }, "params must be" },
      { "bad pair", { params = { "a=b" } }, "params%[1%]" },
      { "params not a table", { params = "a=b" }, "params" },
      { "unknown signature method", { signature_method = "RSA-SHA1" }, "signature_method" },
      { "fractional timestamp", { timestamp = 1.5 }, "timestamp" },
      { "version = true", { version = true }, "version" },
      { "a misspelt field", { token_secrets = "x" }, "unknown field 'token_secrets'" },
      { "a non-string field name", { [1] = "x" }, "field names must be strings" },
    }
    for _, row in ipairs(MISUSE) do
      it("raises for " .. row[1] .. " without quoting secrets", function()
        local ok, msg = pcall(sign.oauth1, merge(base, row[2]))
        assert.is_false(ok)
        assert.matches("bad argument #1", msg)
        assert.matches(row[3], msg)
        assert.is_nil(msg:find("S3cr3t", 1, true))
      end)
    end

    it("raises when the argument is not a table", function()
      assert.has_error(function() sign.oauth1("POST") end)
      assert.has_error(function() sign.oauth1() end)
    end)

    it("keeps secrets out of every failure message", function()
      local r, msg = sign.oauth1(merge(base, { url = "http://h/p?token=S3cr3tInUrl&a=%zz" }))
      assert.is_nil(r)
      assert.is_nil(msg:find("S3cr3t", 1, true))
      local _, msg2 = sign.percent_decode("S3cr3t%zz")
      assert.is_nil(msg2:find("S3cr3t", 1, true))
      local _, msg3 = sign.base64_decode("S3cr3t!!")
      assert.is_nil(msg3:find("S3cr3t", 1, true))
    end)
  end)

  describe("argument types", function()
    local ONE = { "percent_encode", "percent_decode", "form_decode", "base64", "base64url", "base64_decode", "hex",
      "sha1", "sha256", "md5" }
    for _, name in ipairs(ONE) do
      it(name .. " raises for a non-string", function()
        for _, v in ipairs { 1, {}, true } do
          local ok, msg = pcall(sign[name], v)
          assert.is_false(ok)
          assert.matches("string expected, got " .. type(v), msg)
        end
        assert.has_error(function() sign[name]() end)
      end)
    end
    for _, name in ipairs { "hmac_sha1", "hmac_sha256" } do
      it(name .. " raises for a non-string key or data", function()
        assert.has_error(function() sign[name](nil, "x") end)
        assert.has_error(function() sign[name]("k", 7) end)
        assert.has_error(function() sign[name]({}, "x") end)
      end)
    end
  end)
end)
