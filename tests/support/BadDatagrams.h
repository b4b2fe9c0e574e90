#pragma once

#include "SeedClient.h"

#include <string>
#include <vector>

namespace peerchat::test {

/// One datagram of every kind a daemon must drop without a reply or a change
/// of state: garbage, truncated verbs, invalid UTF-8 and UTF-16LE, bad names
/// and endpoints, unknown verbs, malformed peerchat/2 messages (keys, nonces,
/// counters, boxes of the wrong size or not base64url), oversize. Written from
/// the protocol text, not from peerchat's codec. Any endpoint in them is
/// 127.0.0.1:5009; no name in them is "mallory" alone.
inline std::vector<std::string> badDatagrams()
{
    static const char loneSurrogate[] = "l\0o\0g\0i\0n\0,\0\x00\xd8,\0";  // "login," then unpaired U+D800
    return {
        "",
        std::string(1, '\0'),
        std::string("\0\0", 2),
        "\xff\xfe\xfd garbage",
        "login",
        "login,",
        "login,mallory",
        "login,mallory,",
        "logout,alice",
        "login,mallory,127.0.0.1",
        "login,mallory,localhost:5009",
        "login,mallory,127.0.0.1:0",
        "login,mallory,127.0.0.1:70000",
        "login,mallory,1.2.3:5009",
        "login,mallory,[::1:5009",
        "login,mallory,127.0.0.1:5009,Peerchat/1",
        "login,mallory,127.0.0.1:5009,peerchat/1,extra",
        "login,mall\xc3(ory,127.0.0.1:5009",
        "login,\xed\xa0\x80,127.0.0.1:5009",
        "login," + std::string(33, 'm') + ",127.0.0.1:5009",
        "login,mal,lory,127.0.0.1:5009",
        "login,mal lory,127.0.0.1:5009",
        "login,mal;lory,127.0.0.1:5009",
        "login,mal:lory,127.0.0.1:5009",
        "login,mal\x01lory,127.0.0.1:5009",
        "login,mal\xc2\xa0lory,127.0.0.1:5009",
        "login,,127.0.0.1:5009",
        "logout,alice,127.0.0.1:5001,x",
        "LOGIN,mallory,127.0.0.1:5009",
        "hello,mallory,127.0.0.1:5009",
        "talk,12:00:00,alice,hi",
        "Accept,4001",
        "refuse,alice,taken",
        "hello,mallory",
        "hello,mallory,peerchat/2",
        "hello,mallory,peerchat/2,0x0",
        "challenge,mallory,127.0.0.1:5009",
        "auth,mallory,127.0.0.1:5009,peerchat/2,-,-,-,AAAA,AAAA",
        "welcome,mallory,9,AAAA",
        "seal,AAAAAAAAAAA,AAAAAAAAAAA",
        "seal,AAAA,AAAAAAAAAAA,1,AAAA",
        "seal,AAAAAAAAAAA,AAAAAAAAAAA,0,AAAA",
        "seal,AAAAAAAAAAA,AAAAAAAAAAA,1,A=",
        "post,bob,ab12,1,***",
        "mail,alice,***,ab12,1,AAAA",
        "login,mallory,127.0.0.1:5009,peerchat/2,1,-,-,-",
        "logout,bob,127.0.0.1:5001,1,AAAA",
        "msg,ab12,0,12:00:00,bob,hi",
        "relogin,a,b",
        toUtf16le("login,mallory,127.0.0.1:5009") + "x",
        toUtf16le("login,mallory"),
        toUtf16le("talk,12:00:00,alice,hi"),
        std::string(loneSurrogate, sizeof loneSurrogate - 1),
        "login,mallory,127.0.0.1:5009" + std::string(9000, ' '),
        std::string(60000, 'x'),
    };
}

} // namespace peerchat::test
