--- The sandbox accounts fixture: fixed, FAKE credentials and target ids.
-- Nothing here works against a real provider. The tables have the shape the
-- socialpush client constructors take, so tests and examples can pass
-- `accounts.facebook` (and so on) straight through.
--
-- `expired` holds a second variant per provider with the same shape whose
-- credentials the sandbox knows but refuses (revoked tokens with the same app
-- secret / consumer key; for OneAll a wrong private key), for refusal tests.
-- `other` holds a second valid account per provider (another Page, X user, member,
-- pinner, channel): the owner of "someone else's" objects in read and delete refusals.
-- The twitter consumer key/secret and token/secret are the public example
-- values of X's "Creating a signature" documentation, so the documented
-- signature vectors apply to them. `media` holds the URLs of the media host.
--
-- Loaded by the nginx side (bearer/OAuth/Basic/sig lookups) and by the Lua
-- helper (`sb:accounts()`); pure data, no dependencies.
local M = {}

M.facebook = {
  access_token = "EAASandboxPageToken0socialpush0000000000000000000000001",
  app_secret = "5b1a7d0c3e2f4a6b8c9d0e1f2a3b4c5d",
  page_id = "104584925233744",
  group_id = "351818455117222",
  user_id = "100087654321001",
  legacy = {
    api_key = "4f3a9c2b1d0e8f7a6b5c4d3e2f1a0b9c",
    secret = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
    session_key = "2.SandboxSessionKey0socialpush.3600.1700000000-100087654321001",
    uid = "100087654321001",
  },
}

M.twitter = {
  consumer_key = "xvz1evFS4wEEPTGEFPHBog",
  consumer_secret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
  token = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
  token_secret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
  bearer_token = "AAAAAAAAAAAAAAAAAAAAASandboxBearer0socialpush0000000000000000001",
  user_id = "370773112",
  -- an app-only (OAuth 2 client credentials) token: X refuses it for posting and media
  app_bearer_token = "AAAAAAAAAAAAAAAAAAAAASandboxAppOnly0socialpush000000000000000001",
}

M.linkedin = {
  access_token = "AQVSandboxLinkedInToken0socialpush000000000000000000001",
  author = "urn:li:person:SbxP3rs0n01",
  company = "urn:li:organization:2414183",
}

M.pinterest = {
  access_token = "pina_SandboxPinterestToken0socialpush000000000000000001",
  board_id = "549755885175",
  foreign_board_id = "549755885999",   -- another user's board: pins there are refused (403)
}

M.youtube = {
  access_token = "ya29.SandboxGoogleToken0socialpush00000000000000000000001",
  channel_id = "UCSbx0socialpush00000001",
  playlist_id = "PLSbx0socialpush000000000000000001",
  video_id = "SbxVideo001",   -- a video the sandbox knows without an upload (11 characters)
}

M.oneall = {
  subdomain = "sandbox",
  public_key = "0b7e8a4c-5d2f-4e61-9a3b-7c8d9e0f1a21",
  private_key = "6f1d2c3b-4a59-4867-8e7f-a0b1c2d3e4f5",
  identities = {
    facebook = "1d2f3a4b-0001-4c5d-8e6f-7a8b9c0d1e01",
    twitter = "1d2f3a4b-0002-4c5d-8e6f-7a8b9c0d1e02",
    linkedin = "1d2f3a4b-0003-4c5d-8e6f-7a8b9c0d1e03",
    pinterest = "1d2f3a4b-0004-4c5d-8e6f-7a8b9c0d1e04",
    youtube = "1d2f3a4b-0005-4c5d-8e6f-7a8b9c0d1e05",
  },
}

--- a second valid account per provider (another Page, X user, member, pinner, channel):
-- the owner of "someone else's" objects, for refusals of reading or deleting them
M.other = {
  facebook = {
    access_token = "EAASandboxOtherPageToken0socialpush000000000000000000003",
    app_secret = "5b1a7d0c3e2f4a6b8c9d0e1f2a3b4c5d",
    page_id = "104584925233999",
    user_id = "100087654321003",
  },
  twitter = {
    consumer_key = "xvz1evFS4wEEPTGEFPHBog",
    consumer_secret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    token = "1448211906-OtherSandboxToken0socialpush00000000000003",
    token_secret = "OtherSandboxTokenSecret0socialpush0000000003",
    bearer_token = "AAAAAAAAAAAAAAAAAAAAASandboxBearer0socialpush0000000000OTHER03",
    user_id = "1448211906",
  },
  linkedin = {
    access_token = "AQVSandboxLinkedInToken0socialpush0000000000000OTHER03",
    author = "urn:li:person:SbxOth3r03",
  },
  pinterest = {
    access_token = "pina_SandboxPinterestToken0socialpush000000000000OTHER03",
    board_id = "549755885999",            -- the fixture's foreign_board_id: this user's board
    username = "another_pinner",
  },
  youtube = {
    access_token = "ya29.SandboxGoogleToken0socialpush000000000000000OTHER03",
    channel_id = "UCSbx0socialpush00000003",
  },
}

--- known to the sandbox but refused (revoked tokens, wrong app secret, ...)
M.expired = {
  facebook = {
    access_token = "EAASandboxPageToken0socialpush0000000000000EXPIRED00002",
    app_secret = "5b1a7d0c3e2f4a6b8c9d0e1f2a3b4c5d",
    page_id = "104584925233744",
    group_id = "351818455117222",
    user_id = "100087654321001",
    legacy = {
      api_key = "4f3a9c2b1d0e8f7a6b5c4d3e2f1a0b9c",
      secret = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
      session_key = "2.SandboxSessionKey0socialpushEXPIRED.3600.1600000000-100087654321001",
      uid = "100087654321001",
    },
  },
  twitter = {
    consumer_key = "xvz1evFS4wEEPTGEFPHBog",
    consumer_secret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    token = "370773112-RevokedSandboxToken0socialpush000000000002",
    token_secret = "RevokedSandboxTokenSecret0socialpush000002",
    bearer_token = "AAAAAAAAAAAAAAAAAAAAASandboxBearer0socialpush000000000EXPIRED02",
    user_id = "370773112",
  },
  linkedin = {
    access_token = "AQVSandboxLinkedInToken0socialpush00000000000EXPIRED02",
    author = "urn:li:person:SbxP3rs0n01",
    company = "urn:li:organization:2414183",
  },
  pinterest = {
    access_token = "pina_SandboxPinterestToken0socialpush0000000000EXPIRED02",
    board_id = "549755885175",
    foreign_board_id = "549755885999",
  },
  youtube = {
    access_token = "ya29.SandboxGoogleToken0socialpush0000000000000EXPIRED02",
    channel_id = "UCSbx0socialpush00000001",
    playlist_id = "PLSbx0socialpush000000000000000001",
    video_id = "SbxVideo001",
  },
  oneall = {
    subdomain = "sandbox",
    public_key = "0b7e8a4c-5d2f-4e61-9a3b-7c8d9e0f1a21",
    private_key = "00000000-dead-4bad-8bad-000000000000",
    identities = {
      facebook = "1d2f3a4b-0001-4c5d-8e6f-7a8b9c0d1e01",
      twitter = "1d2f3a4b-0002-4c5d-8e6f-7a8b9c0d1e02",
      linkedin = "1d2f3a4b-0003-4c5d-8e6f-7a8b9c0d1e03",
      pinterest = "1d2f3a4b-0004-4c5d-8e6f-7a8b9c0d1e04",
      youtube = "1d2f3a4b-0005-4c5d-8e6f-7a8b9c0d1e05",
    },
  },
}

--- OAuth apps the sandbox's authorization and token endpoints know (DESIGN §7):
-- `{client_id =, client_secret =, redirect_uri =}` per provider name of `client:app`.
-- Every app also accepts any loopback redirect URI (http://127.0.0.1:<port>/<path>,
-- http://[::1]:<port>/<path>). twitter_oauth1's id/secret are the fixture consumer key and
-- secret; twitter_public is an X public (native/SPA) client: no secret, client_id in the body.
-- facebook's secret is the fixture app secret (appsecret_proof of the tokens it issues).
local CALLBACK = "https://other.socialpush.test/oauth/callback"
M.apps = {
  twitter = {
    client_id = "U2J4Q29uZmlkZW50aWFsMHNvY2lhbHB1c2g6MTpjaQ",
    client_secret = "SbxXClientSecret0socialpush0confidential0000000000001",
    redirect_uri = CALLBACK,
  },
  twitter_public = {
    client_id = "U2J4UHVibGljMHNvY2lhbHB1c2gwMDAwMDA6MTpjaQ",
    redirect_uri = CALLBACK,
  },
  twitter_oauth1 = {
    client_id = M.twitter.consumer_key,
    client_secret = M.twitter.consumer_secret,
    redirect_uri = CALLBACK,
  },
  youtube = {
    client_id = "240001000001-sbx0socialpush0youtube0app0001.apps.googleusercontent.com",
    client_secret = "GOCSPX-Sbx0socialpush0YouTube0000001",
    redirect_uri = CALLBACK,
  },
  linkedin = {
    client_id = "86sbx0socialpush01",
    client_secret = "WPL_AP1.Sbx0socialpush0LinkedIn.001==",
    redirect_uri = CALLBACK,
  },
  pinterest = {
    client_id = "1500001",
    client_secret = "5bx0socialpush0pinterest0secret000000001",
    redirect_uri = CALLBACK,
  },
  facebook = {
    client_id = "571829304618273",
    client_secret = M.facebook.app_secret,
    redirect_uri = CALLBACK,
  },
}

--- who the fixture user is, as the identity calls answer (tokens issued by the sandbox's
-- OAuth endpoints act for this user: the accounts above)
M.profiles = {
  twitter = { id = M.twitter.user_id, username = "sandbox_user", name = "Sandbox User" },
  youtube = { channel_id = M.youtube.channel_id, title = "socialpush sandbox", sub = "108230000000000000001",
    email = "sandbox@socialpush.test" },
  linkedin = { sub = "SbxP3rs0n01", name = "Sandbox Member", given_name = "Sandbox",
    family_name = "Member", email = "member@socialpush.test" },
  pinterest = { id = "549755813001", username = "sandbox_pinner" },
  facebook = { id = M.facebook.user_id, name = "Sandbox User",
    pages = {
      { id = M.facebook.page_id, name = "Sandbox Page", category = "Software",
        tasks = { "ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE" } },
      { id = "104584925233999", name = "Sandbox Analytics Page", category = "Community",
        tasks = { "ANALYZE" } },
    } },
}

--- media served by media.socialpush.test for {url=} tests
M.media = {
  picture = "https://media.socialpush.test/picture.png",
  video = "https://media.socialpush.test/video.mp4",
}

return M
