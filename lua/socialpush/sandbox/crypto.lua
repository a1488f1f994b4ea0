--- SHA-256 and HMAC-SHA256 for the sandbox (nginx side only): LuaJIT ffi to
-- the libcrypto nginx is linked with. Deliberately independent of
-- socialpush.core, so the sandbox checks the library with its own code.
-- (HMAC-SHA1 and MD5 come from ngx.hmac_sha1 / ngx.md5.)
local ffi = require("ffi")

local M = {}

local DECLS = {
  "typedef struct evp_md_ctx_st SPSB_EVP_MD_CTX;",
  "typedef struct evp_md_st SPSB_EVP_MD;",
  "SPSB_EVP_MD_CTX *EVP_MD_CTX_new(void);",
  "void EVP_MD_CTX_free(SPSB_EVP_MD_CTX *ctx);",
  "const SPSB_EVP_MD *EVP_sha256(void);",
  "int EVP_DigestInit_ex(SPSB_EVP_MD_CTX *ctx, const SPSB_EVP_MD *type, void *impl);",
  "int EVP_DigestUpdate(SPSB_EVP_MD_CTX *ctx, const void *d, size_t cnt);",
  "int EVP_DigestFinal_ex(SPSB_EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s);",
  "unsigned char *HMAC(const SPSB_EVP_MD *evp_md, const void *key, int key_len,"
    .. " const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);",
}

-- one cdef per declaration: another module may already have declared some
for _, d in ipairs(DECLS) do pcall(ffi.cdef, d) end

-- nginx links libcrypto, so its symbols are normally global; else load it
local function find_lib()
  local ok = pcall(function() return ffi.C.EVP_sha256 end)
  if ok then return ffi.C end
  for _, name in ipairs({ "crypto", "libcrypto.so.3", "libcrypto.so.1.1" }) do
    local lok, lib = pcall(ffi.load, name)
    if lok then return lib end
  end
  error("socialpush.sandbox.crypto: libcrypto not found")
end

local C = find_lib()
local md_buf = ffi.new("unsigned char[64]")
local len_buf = ffi.new("unsigned int[1]")

--- lowercase hex of a byte string
-- syntax: hex = crypto.hex(bytes)
function M.hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local Sha256 = {}
Sha256.__index = Sha256

--- streaming SHA-256
-- syntax: h = crypto.sha256(); h:update(s) ...; hex = h:final()
function M.sha256()
  local ctx = C.EVP_MD_CTX_new()
  if ctx == nil then error("EVP_MD_CTX_new failed") end
  ctx = ffi.gc(ctx, C.EVP_MD_CTX_free)
  if C.EVP_DigestInit_ex(ctx, C.EVP_sha256(), nil) ~= 1 then
    error("EVP_DigestInit_ex failed")
  end
  return setmetatable({ ctx = ctx, size = 0 }, Sha256)
end

function Sha256:update(s)
  if #s > 0 then
    if C.EVP_DigestUpdate(self.ctx, s, #s) ~= 1 then error("EVP_DigestUpdate failed") end
    self.size = self.size + #s
  end
  return self
end

--- hex digest; the object must not be used afterwards
function Sha256:final()
  if C.EVP_DigestFinal_ex(self.ctx, md_buf, len_buf) ~= 1 then
    error("EVP_DigestFinal_ex failed")
  end
  return M.hex(ffi.string(md_buf, len_buf[0]))
end

--- one-shot SHA-256, hex
-- syntax: hex = crypto.sha256_hex(s)
function M.sha256_hex(s)
  return M.sha256():update(s):final()
end

--- HMAC-SHA256, raw bytes
-- syntax: mac = crypto.hmac_sha256(key, data)
function M.hmac_sha256(key, data)
  local r = C.HMAC(C.EVP_sha256(), key, #key, data, #data, md_buf, len_buf)
  if r == nil then error("HMAC failed") end
  return ffi.string(md_buf, len_buf[0])
end

--- constant-time-ish string comparison (lengths may leak)
-- syntax: same = crypto.equal(a, b)
function M.equal(a, b)
  if type(a) ~= "string" or type(b) ~= "string" or #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    if a:byte(i) ~= b:byte(i) then diff = diff + 1 end
  end
  return diff == 0
end

return M
