/* Golden vectors for wire/handshake.c, wire/session.c and wire/client.c,
 * generated once from tests/unit/wire_fixtures.h and the fixtures in
 * test_wire_client.c. Any change to these bytes is a protocol change. */
#ifndef LOY_TESTS_GOLDEN_PEER_VECTORS_H
#define LOY_TESTS_GOLDEN_PEER_VECTORS_H

#define GV_HELLO_INIT                                                          \
	"9501a86c6f792d74657374c42079b5562e8fe654f94078b112e8a98ba7901f85"     \
	"3ae695bed7e0e3910bad049664c42062a4f08e90d52bbcd768e1e984fefb8d68"     \
	"6d312a546480359632a1171649cb76c4206162636465666768696a6b6c6d6e6f"     \
	"707172737475767778797a7b7c7d7e7f80"
#define GV_HELLO_RESP                                                          \
	"9501a86c6f792d74657374c420e7f162a10bec559afea195e4dce84b69568d5d"     \
	"2cb0963eb446c0685e2b17f2f0c420cc27c49ae6a3bc6b2ccba388318fbc79ab"     \
	"8e668f6d0ea1dcc76dd4027c90c72bc420a1a2a3a4a5a6a7a8a9aaabacadaeaf"     \
	"b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0"
#define GV_TRANSCRIPT                                                          \
	"be44401b977a2d8b24266174309f9e41ff276c9e81e5d86ac77b4c5311831dc9"
#define GV_AUTH_INIT_SIG                                                       \
	"f91185148d587af35228032ae928bd0e14e5100d5db32ce93e0770df60e996e5"     \
	"d3811d9bc5f98169f70b8e296e326f7b08a3752595a7a20f3b04a33b5ab41002"
#define GV_AUTH_RESP_SIG                                                       \
	"cc48b9102b48bb28f06d3e32aa0d4d9fae93d8d005f8a4e9647a96983e512d25"     \
	"653d300c1a4ce80b609d8e7fc89bd358de036bd309b14ec160a936b37e395f00"
#define GV_SEALED_PING   "6118231f7dc489c1cd394cc09a420b584e576541"
#define GV_CLIENT_SUBMIT "950101cd012c92c40474782d61c40574782d6262c3"
#define GV_CLIENT_QUERY                                                        \
	"950102020594ce000f4240d0d3a3616263c41442424242424242424242424242"     \
	"42424242424242"
#define GV_CLIENT_SUBSCRIBE                                                    \
	"9501030302c4141717171717171717171717171717171717171717"
#define GV_CLIENT_STATUS "930104cf0000010000000000"
#define GV_CLIENT_RESPONSE                                                     \
	"960110cd012c11b26e6f6e636520616c72656164792075736564c4020102"
#define GV_CLIENT_EVENT                                                        \
	"950111cd04d2c420abababababababababababababababababababababababab"     \
	"ababababababababc40672656465656d"

#endif
