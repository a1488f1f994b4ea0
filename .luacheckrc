std = "max"
max_line_length = 120
unused_args = false
files["spec/"] = { std = "+busted" }
files["lua/socialpush/sandbox/"] = { globals = { "ngx" } }
files["lua/socialpush/transport/openresty.lua"] = { globals = { "ngx" } }
files["lua/socialpush/gateway.lua"] = { globals = { "ngx" } }
exclude_files = { "build/" }
