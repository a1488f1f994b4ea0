--- socialpush.sign: encodings, digests, HMAC, OAuth 1.0a, PKCE, appsecret_proof, legacy sig.
return require("socialpush.core").sign
