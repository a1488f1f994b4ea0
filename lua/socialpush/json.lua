--- socialpush.json: strict RFC 8259 JSON with exact integers.
-- syntax: s, msg, err = json.encode(v [, {sort_keys = true}])
-- syntax: v, msg, err = json.decode(s)
-- json.null (a lightuserdata NULL, the same value as cjson.null), json.array(t)
return require("socialpush.core").json
