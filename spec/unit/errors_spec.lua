local errors = require "socialpush.errors"

describe("socialpush.errors", function()
  it("builds an error whose tostring is its message", function()
    local e = errors.new { kind = "rate_limited", operation = "twitter.post", provider = "twitter",
      status = 429, code = 88, retry_after = 30 }
    assert.are.equal("twitter.post: rate limited (HTTP 429, code 88)", tostring(e))
    assert.are.equal(e.message, tostring(e))
    assert.is_true(e.retryable)
    assert.are.equal(30, e.retry_after)
    assert.is_true(errors.is(e, "rate_limited"))
    assert.is_true(e:is("rate_limited"))
    assert.is_false(errors.is({ kind = "rate_limited" }))
  end)

  it("returns the nil, msg, err triple", function()
    local r, msg, e = errors.fail { kind = "invalid_argument", field = "message", message = "x: message is empty" }
    assert.is_nil(r)
    assert.are.equal("x: message is empty", msg)
    assert.are.equal("message", e.field)
    assert.is_false(e.retryable)
  end)

  it("raises on an unknown kind (misuse)", function()
    assert.has_error(function() errors.new { kind = "nope" } end)
  end)

  it("knows every kind of DESIGN §2", function()
    for _, k in ipairs { "invalid_argument", "auth", "permission", "not_found", "duplicate",
      "rate_limited", "too_large", "unsupported", "deprecated", "provider", "server", "timeout",
      "tls", "transport", "decode", "cancelled" } do
      assert.is_string(errors.kinds[k], k)
    end
  end)

  it("scrubs secrets from messages", function()
    local e = errors.new { kind = "auth", message = "bad token EAAsecret123 in EAAsecret123",
      secrets = { "EAAsecret123" } }
    assert.are.equal("bad token *** in ***", e.message)
    assert.are.equal("a %p b", errors.scrub("a %p b", { "%p%x" }))
    assert.are.equal("a *** b", errors.scrub("a %p%x b", { "%p%x" }))
  end)

  it("wraps C errors with the operation", function()
    local core = require "socialpush.core"
    local e = setmetatable({ kind = "timeout", message = "timed out" }, core.error_mt)
    local _, msg, e2 = errors.wrap(e, { operation = "facebook.page_post", provider = "facebook" })
    assert.are.equal("facebook.page_post: timed out", msg)
    assert.are.equal("facebook", e2.provider)
    assert.is_true(e2.retryable)
  end)
end)
