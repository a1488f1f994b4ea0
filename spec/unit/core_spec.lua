local socialpush = require "socialpush"
local core = require "socialpush.core"

describe("socialpush module", function()
  it("has the same version as its C core", function()
    assert.is_string(socialpush._VERSION)
    assert.are.equal(socialpush._VERSION, core._VERSION)
  end)

  it("refuses a stale C module with a clear message", function()
    local saved_core, saved_init = package.loaded["socialpush.core"], package.loaded["socialpush"]
    package.loaded["socialpush.core"] = setmetatable({ _VERSION = "0.0.0-stale" }, { __index = core })
    package.loaded["socialpush"] = nil
    local ok, err = pcall(require, "socialpush")
    package.loaded["socialpush.core"], package.loaded["socialpush"] = saved_core, saved_init
    assert.is_false(ok)
    assert.matches("stale C module", err, 1, true)
    assert.matches("0.0.0-stale", err, 1, true)
  end)

  it("loads its submodules lazily", function()
    assert.are.equal(require("socialpush.json"), socialpush.json)
    assert.are.equal(require("socialpush.errors"), socialpush.errors)
  end)

  it("creates no globals", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    for _, m in ipairs { "socialpush", "socialpush.json", "socialpush.sign", "socialpush.errors" } do
      package.loaded[m] = nil
      require(m)
    end
    for k in pairs(_G) do assert.is_true(before[k], "new global " .. tostring(k)) end
  end)
end)
