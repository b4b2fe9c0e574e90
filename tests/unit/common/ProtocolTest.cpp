#include "ByteFuzzer.h"
#include "Protocol.h"
#include "Utf8.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using namespace peerchat;

namespace {

Endpoint endpoint(const std::string& text)
{
    return *Endpoint::parse(text);
}

std::string field(const std::string& s)
{
    return "[" + std::to_string(s.size()) + ":" + s + "]";
}

struct Describer
{
    std::string operator()(const Login& m) const
    {
        return "Login" + field(m.name) + field(m.endpoint.toString()) + field(m.dialect) + field(std::to_string(m.seq));
    }
    std::string operator()(const Accept& m) const { return "Accept" + field(std::to_string(m.port)); }
    std::string operator()(const Logout& m) const
    {
        return "Logout" + field(m.name) + field(m.endpoint.toString()) + field(std::to_string(m.seq));
    }
    std::string operator()(const Talk& m) const { return "Talk" + field(m.time) + field(m.from) + field(m.text); }
    std::string operator()(const Refuse& m) const { return "Refuse" + field(m.name) + field(m.reason); }
    std::string operator()(const Msg& m) const
    {
        return "Msg" + field(m.stream) + field(std::to_string(m.seq)) + field(m.time) + field(m.from) + field(m.text);
    }
    std::string operator()(const Ack& m) const { return "Ack" + field(m.from) + field(m.stream) + field(std::to_string(m.seq)); }
    std::string operator()(const Alive& m) const { return "Alive" + field(m.name) + field(std::to_string(m.seq)); }
    std::string operator()(const Seen& m) const { return "Seen" + field(std::to_string(m.seq)); }
    std::string operator()(const Relogin& m) const { return "Relogin" + field(m.name); }
    std::string operator()(const Store& m) const { return "Store" + field(m.to) + (*this)(m.msg); }
    std::string operator()(const Stored& m) const { return "Stored" + field(m.to) + field(m.stream) + field(std::to_string(m.seq)); }
    std::string operator()(const Full& m) const { return "Full" + field(m.to) + field(m.stream) + field(std::to_string(m.seq)); }
};

// Every field of a message, length-prefixed so that different messages never print alike.
std::string describe(const Message& message)
{
    return std::visit(Describer{}, message);
}

Message decodeOk(const std::string& text)
{
    const auto parsed = Protocol::decode(text);
    CPPUNIT_ASSERT_MESSAGE("refused '" + text + "': " + parsed.error(), parsed.ok());
    return *parsed;
}

void assertDatagramRefused(const std::string& bytes)
{
    const auto inbound = Protocol::decodeDatagram(bytes);
    CPPUNIT_ASSERT_MESSAGE("decodeDatagram accepted '" + bytes + "'", !inbound.ok());
    CPPUNIT_ASSERT_MESSAGE("no reason for refusing datagram '" + bytes + "'", !inbound.error().empty());
}

// Refused both as message text and as a datagram, each time with a reason.
void assertRefused(const std::string& bytes)
{
    const auto message = Protocol::decode(bytes);
    CPPUNIT_ASSERT_MESSAGE("decode accepted '" + bytes + "'", !message.ok());
    CPPUNIT_ASSERT_MESSAGE("no reason for refusing '" + bytes + "'", !message.error().empty());
    assertDatagramRefused(bytes);
}

// ASCII text as UTF-16LE, written out by hand rather than by Utf8::toUtf16le.
std::string asciiUtf16le(const std::string& ascii)
{
    std::string out;
    for (char c : ascii) {
        out.push_back(c);
        out.push_back('\0');
    }
    return out;
}

std::vector<Message> sampleMessages()
{
    return {
        Login{"alice", endpoint("127.0.0.1:5001"), ""},
        Login{"天涯", endpoint("[::1]:5002"), "peerchat/1"},
        Login{"bob", endpoint("192.168.1.5:6000"), "dotnet"},
        Accept{5003},
        Accept{65535},
        Logout{"alice", endpoint("127.0.0.1:5001")},
        Logout{"天涯", endpoint("[2001:db8::1]:1")},
        Talk{"15:04:05", "alice", "hello, bob, how are you?"},
        Talk{"3:04:05 PM", "天涯", "你好世界 😀"},
        Talk{"12:00:00", "bob", ""},
        Talk{"12:00:00", "bob", "  indented, with ,,commas,"},
        Refuse{"alice", "taken"},
        Refuse{"天涯", "version"},
        Login{"bob", endpoint("127.0.0.1:6000"), "peerchat/1", 42},
        Logout{"bob", endpoint("127.0.0.1:6000"), 43},
        Msg{"0123456789abcdef", 1, "15:04:05", "alice", "hello, with, commas"},
        Msg{"a", Protocol::kMaxSequence, "12:00:00", "天涯", ""},
        Ack{"bob", "0123456789abcdef", 7},
        Alive{"alice", 0},
        Alive{"天涯", 123456789},
        Seen{0},
        Seen{99},
        Relogin{"alice"},
        Store{"bob", Msg{"ff", 3, "12:00:01", "alice", "see you, later"}},
        Stored{"bob", "ff", 3},
        Full{"bob", "ff", 4},
    };
}

// A datagram accepted once must re-encode, in the encoding it came in, to one that decodes to the same message.
void assertReencodes(const Inbound& inbound, const std::string& origin)
{
    const std::string again = Protocol::encodeDatagram(inbound.message, inbound.encoding);
    CPPUNIT_ASSERT_MESSAGE("re-encoding is oversize for " + origin, again.size() <= Protocol::kMaxDatagramBytes);
    const auto back = Protocol::decodeDatagram(again);
    CPPUNIT_ASSERT_MESSAGE("re-encoding of '" + origin + "' refused: " + back.error(), back.ok());
    CPPUNIT_ASSERT(back->encoding == inbound.encoding);
    CPPUNIT_ASSERT_EQUAL(describe(inbound.message), describe(back->message));
}

} // namespace

class ProtocolTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ProtocolTest);
    CPPUNIT_TEST(testRoundTripLogin);
    CPPUNIT_TEST(testRoundTripAccept);
    CPPUNIT_TEST(testRoundTripLogout);
    CPPUNIT_TEST(testRoundTripTalk);
    CPPUNIT_TEST(testRoundTripRefuse);
    CPPUNIT_TEST(testRoundTripReliabilityVerbs);
    CPPUNIT_TEST(testRefuseMalformedReliabilityVerbs);
    CPPUNIT_TEST(testRoundTripDatagramsInBothEncodings);
    CPPUNIT_TEST(testDecodeHandWrittenUtf16leDatagrams);
    CPPUNIT_TEST(testAcceptSpacesAfterCommas);
    CPPUNIT_TEST(testKeepLeadingSpacesOfTalkText);
    CPPUNIT_TEST(testNameVerbs);
    CPPUNIT_TEST(testRefuseEmptyInput);
    CPPUNIT_TEST(testRefuseMessageWithoutComma);
    CPPUNIT_TEST(testRefuseUnknownVerb);
    CPPUNIT_TEST(testRefuseTruncatedMessages);
    CPPUNIT_TEST(testRefuseExtraFields);
    CPPUNIT_TEST(testRefuseBadName);
    CPPUNIT_TEST(testRefuseBadEndpoint);
    CPPUNIT_TEST(testRefuseBadDialect);
    CPPUNIT_TEST(testRefuseBadAcceptPort);
    CPPUNIT_TEST(testRefuseBadRefuseReason);
    CPPUNIT_TEST(testRefuseBadTalkTime);
    CPPUNIT_TEST(testLimitTalkTextTo4096Bytes);
    CPPUNIT_TEST(testRefuseNulInTalkText);
    CPPUNIT_TEST(testRefuseInvalidUtf8);
    CPPUNIT_TEST(testRefuseOversizeDatagram);
    CPPUNIT_TEST(testRefuseMalformedUtf16le);
    CPPUNIT_TEST(testRoundTripDialectTokens);
    CPPUNIT_TEST(testSurviveRandomDatagrams);
    CPPUNIT_TEST_SUITE_END();

public:
    void testRoundTripReliabilityVerbs()
    {
        for (const auto& message : sampleMessages()) {
            const std::string text = Protocol::encode(message);
            CPPUNIT_ASSERT_EQUAL(describe(message), describe(decodeOk(text)));
            CPPUNIT_ASSERT_EQUAL(text, Protocol::encode(decodeOk(text)));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("msg,ff,3,12:00:01,alice,a,b"),
                             Protocol::encode(Msg{"ff", 3, "12:00:01", "alice", "a,b"}));
        CPPUNIT_ASSERT_EQUAL(std::string("login,bob,127.0.0.1:6000,peerchat/1,42"),
                             Protocol::encode(Login{"bob", endpoint("127.0.0.1:6000"), "peerchat/1", 42}));
        // A presence sequence number is never written without a dialect.
        CPPUNIT_ASSERT_EQUAL(std::string("login,bob,127.0.0.1:6000"),
                             Protocol::encode(Login{"bob", endpoint("127.0.0.1:6000"), "", 42}));
    }

    void testRefuseMalformedReliabilityVerbs()
    {
        for (const std::string text :
             {"msg,ff,1,12:00:00,alice", "msg,FF,1,12:00:00,alice,hi", "msg,0123456789abcdef0,1,12:00:00,alice,hi",
              "msg,ff,0,12:00:00,alice,hi", "msg,ff,01,12:00:00,alice,hi", "msg,ff,-1,12:00:00,alice,hi",
              "msg,ff,9223372036854775808,12:00:00,alice,hi", "msg,,1,12:00:00,alice,hi", "msg,ff,1,,alice,hi",
              "ack,bob,ff", "ack,bob,ff,0", "ack,bob,xyz,1", "ack,bob,ff,1,2", "alive,alice", "alive,alice,-3",
              "alive,alice,00", "seen,", "seen,x", "relogin,", "relogin,a,b", "store,bob,ff,1,12:00:00,alice",
              "stored,bob,ff", "full,bob,ff,x", "login,bob,127.0.0.1:6000,peerchat/1,0",
              "logout,bob,127.0.0.1:6000,seq"})
            assertRefused(text);
    }

    void testRoundTripLogin()
    {
        const Message plain = Login{"alice", endpoint("127.0.0.1:5001"), ""};
        CPPUNIT_ASSERT_EQUAL(std::string("login,alice,127.0.0.1:5001"), Protocol::encode(plain));
        CPPUNIT_ASSERT_EQUAL(describe(plain), describe(decodeOk("login,alice,127.0.0.1:5001")));

        const Message dialect = Login{"天涯", endpoint("[::1]:5002"), "peerchat/1"};
        CPPUNIT_ASSERT_EQUAL(std::string("login,天涯,[::1]:5002,peerchat/1"), Protocol::encode(dialect));
        CPPUNIT_ASSERT_EQUAL(describe(dialect), describe(decodeOk("login,天涯,[::1]:5002,peerchat/1")));

        // Unknown tokens are carried as they are; what they mean is indexd's business.
        const Login other = std::get<Login>(decodeOk("login,bob,10.0.0.1:7,peerchat/2"));
        CPPUNIT_ASSERT_EQUAL(std::string("peerchat/2"), other.dialect);
    }

    void testRoundTripAccept()
    {
        for (std::uint16_t port : {1, 5003, 65535}) {
            const Message accept = Accept{port};
            CPPUNIT_ASSERT_EQUAL("Accept," + std::to_string(port), Protocol::encode(accept));
            CPPUNIT_ASSERT_EQUAL(describe(accept), describe(decodeOk(Protocol::encode(accept))));
        }
    }

    void testRoundTripLogout()
    {
        const Message logout = Logout{"天涯", endpoint("[::1]:5002")};
        CPPUNIT_ASSERT_EQUAL(std::string("logout,天涯,[::1]:5002"), Protocol::encode(logout));
        CPPUNIT_ASSERT_EQUAL(describe(logout), describe(decodeOk("logout,天涯,[::1]:5002")));
    }

    void testRoundTripTalk()
    {
        const Message talk = Talk{"15:04:05", "alice", "hi, bob, 你好世界, 天涯 😀"};
        CPPUNIT_ASSERT_EQUAL(std::string("talk,15:04:05,alice,hi, bob, 你好世界, 天涯 😀"), Protocol::encode(talk));
        CPPUNIT_ASSERT_EQUAL(describe(talk), describe(decodeOk(Protocol::encode(talk))));

        const Talk commas = std::get<Talk>(decodeOk("talk,3:04:05 PM,天涯,,a,,b,"));
        CPPUNIT_ASSERT_EQUAL(std::string("3:04:05 PM"), commas.time);
        CPPUNIT_ASSERT_EQUAL(std::string("天涯"), commas.from);
        CPPUNIT_ASSERT_EQUAL(std::string(",a,,b,"), commas.text);

        const Talk empty = std::get<Talk>(decodeOk("talk,12:00:00,bob,"));
        CPPUNIT_ASSERT_EQUAL(std::string(), empty.text);

        const Talk control = std::get<Talk>(decodeOk("talk,12:00:00,bob,line\nnext\x1b[0m"));
        CPPUNIT_ASSERT_EQUAL(std::string("line\nnext\x1b[0m"), control.text);
    }

    void testRoundTripRefuse()
    {
        for (const std::string reason : {"taken", "version"}) {
            const Message refuse = Refuse{"天涯", reason};
            CPPUNIT_ASSERT_EQUAL("refuse,天涯," + reason, Protocol::encode(refuse));
            CPPUNIT_ASSERT_EQUAL(describe(refuse), describe(decodeOk(Protocol::encode(refuse))));
        }
    }

    void testRoundTripDatagramsInBothEncodings()
    {
        for (const Message& message : sampleMessages()) {
            const std::string text = Protocol::encode(message);

            const std::string utf8 = Protocol::encodeDatagram(message, TextEncoding::Utf8);
            CPPUNIT_ASSERT_EQUAL(text, utf8);
            const auto fromUtf8 = Protocol::decodeDatagram(utf8);
            CPPUNIT_ASSERT_MESSAGE(text + ": " + fromUtf8.error(), fromUtf8.ok());
            CPPUNIT_ASSERT(fromUtf8->encoding == TextEncoding::Utf8);
            CPPUNIT_ASSERT_EQUAL(describe(message), describe(fromUtf8->message));

            const std::string utf16 = Protocol::encodeDatagram(message, TextEncoding::Utf16le);
            CPPUNIT_ASSERT_EQUAL(Utf8::toUtf16le(text), utf16);
            CPPUNIT_ASSERT_EQUAL(std::size_t(0), utf16.size() % 2);
            CPPUNIT_ASSERT_EQUAL('\0', utf16[1]);
            const auto fromUtf16 = Protocol::decodeDatagram(utf16);
            CPPUNIT_ASSERT_MESSAGE(text + ": " + fromUtf16.error(), fromUtf16.ok());
            CPPUNIT_ASSERT(fromUtf16->encoding == TextEncoding::Utf16le);
            CPPUNIT_ASSERT_EQUAL(describe(message), describe(fromUtf16->message));
        }
    }

    void testDecodeHandWrittenUtf16leDatagrams()
    {
        // What the seed's .NET program sends: Encoding.Unicode, no BOM.
        const auto login = Protocol::decodeDatagram(asciiUtf16le("login,bob,192.168.1.5:6000"));
        CPPUNIT_ASSERT_MESSAGE(login.error(), login.ok());
        CPPUNIT_ASSERT(login->encoding == TextEncoding::Utf16le);
        CPPUNIT_ASSERT_EQUAL(describe(Login{"bob", endpoint("192.168.1.5:6000"), ""}), describe(login->message));

        // talk,1,bob,天涯😀 with the CJK and the surrogate pair spelled out.
        const std::string talkBytes = asciiUtf16le("talk,1,bob,") + std::string("\x29\x59\xAF\x6D\x3D\xD8\x00\xDE", 8);
        const auto talk = Protocol::decodeDatagram(talkBytes);
        CPPUNIT_ASSERT_MESSAGE(talk.error(), talk.ok());
        CPPUNIT_ASSERT(talk->encoding == TextEncoding::Utf16le);
        CPPUNIT_ASSERT_EQUAL(std::string("天涯\xF0\x9F\x98\x80"), std::get<Talk>(talk->message).text);
        CPPUNIT_ASSERT_EQUAL(talkBytes, Protocol::encodeDatagram(talk->message, TextEncoding::Utf16le));
    }

    void testAcceptSpacesAfterCommas()
    {
        const std::vector<std::pair<std::string, std::string>> spacedAndCompact = {
            {"login, alice, 127.0.0.1:5001", "login,alice,127.0.0.1:5001"},
            {"login,  alice,   [::1]:5001,  peerchat/1", "login,alice,[::1]:5001,peerchat/1"},
            {"logout, alice, 127.0.0.1:5001", "logout,alice,127.0.0.1:5001"},
            {"Accept, 5003", "Accept,5003"},
            {"refuse, alice, taken", "refuse,alice,taken"},
            {"talk, 12:00:00, alice,hi", "talk,12:00:00,alice,hi"},
        };
        for (const auto& [spaced, compact] : spacedAndCompact) {
            const Message message = decodeOk(spaced);
            CPPUNIT_ASSERT_EQUAL(describe(decodeOk(compact)), describe(message));
            // What peerchat writes has no spaces after its commas.
            CPPUNIT_ASSERT_EQUAL(compact, Protocol::encode(message));
            const auto datagram = Protocol::decodeDatagram(asciiUtf16le(spaced));
            CPPUNIT_ASSERT_MESSAGE(spaced + ": " + datagram.error(), datagram.ok());
            CPPUNIT_ASSERT_EQUAL(describe(message), describe(datagram->message));
        }
        // Spaces before a comma, or inside a field, are not separators.
        assertRefused("login,alice ,127.0.0.1:5001");
        assertRefused("login,alice,127.0.0.1:5001 ");
        assertRefused("Accept,5003 ");
    }

    void testKeepLeadingSpacesOfTalkText()
    {
        const Talk talk = std::get<Talk>(decodeOk("talk, 12:00:00, alice,   three spaces first"));
        CPPUNIT_ASSERT_EQUAL(std::string("12:00:00"), talk.time);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), talk.from);
        CPPUNIT_ASSERT_EQUAL(std::string("   three spaces first"), talk.text);
        CPPUNIT_ASSERT_EQUAL(std::string("talk,12:00:00,alice,   three spaces first"), Protocol::encode(talk));
        CPPUNIT_ASSERT_EQUAL(std::string(" "), std::get<Talk>(decodeOk("talk,1,bob, ")).text);
    }

    void testNameVerbs()
    {
        CPPUNIT_ASSERT_EQUAL(std::string_view("login"), Protocol::verb(Login{}));
        CPPUNIT_ASSERT_EQUAL(std::string_view("Accept"), Protocol::verb(Accept{}));
        CPPUNIT_ASSERT_EQUAL(std::string_view("logout"), Protocol::verb(Logout{}));
        CPPUNIT_ASSERT_EQUAL(std::string_view("talk"), Protocol::verb(Talk{}));
        CPPUNIT_ASSERT_EQUAL(std::string_view("refuse"), Protocol::verb(Refuse{}));
    }

    void testRefuseEmptyInput()
    {
        assertRefused("");
        assertRefused(",");
    }

    void testRefuseMessageWithoutComma()
    {
        for (const std::string text : {"login", "Accept", "talk", "hello", "login alice 127.0.0.1:5001", "天涯"})
            assertRefused(text);
    }

    void testRefuseUnknownVerb()
    {
        for (const std::string text : {"LOGIN,alice,127.0.0.1:5001", "Login,alice,127.0.0.1:5001", "accept,5001",
                                       "Talk,1,alice,hi", " login,alice,127.0.0.1:5001", "hello,world",
                                       ",alice,127.0.0.1:5001", "register,alice,127.0.0.1:5001"})
            assertRefused(text);
        assertRefused("\x1b[2J\x01\x02,x");
    }

    void testRefuseTruncatedMessages()
    {
        for (const std::string text : {"login,alice", "login,", "login,alice,", "logout,alice", "logout,", "Accept,",
                                       "talk,12:00:00", "talk,12:00:00,alice", "talk,", "refuse,alice", "refuse,"})
            assertRefused(text);
    }

    void testRefuseExtraFields()
    {
        for (const std::string text : {"login,alice,127.0.0.1:5001,peerchat/1,extra", "login,alice,127.0.0.1:5001,,",
                                       "logout,alice,127.0.0.1:5001,peerchat/1", "logout,alice,127.0.0.1:5001,",
                                       "Accept,5001,5002", "refuse,alice,taken,again"})
            assertRefused(text);
    }

    void testRefuseBadName()
    {
        const std::string longName(33, 'a');
        for (const std::string text : {"login,,127.0.0.1:5001", "login,a b,127.0.0.1:5001", "login,a;b,127.0.0.1:5001",
                                       "login,a:b,127.0.0.1:5001", "login,a\x01,127.0.0.1:5001",
                                       "login,天\xE3\x80\x80涯,127.0.0.1:5001", "logout,,127.0.0.1:5001",
                                       "talk,12:00:00,,hi", "talk,12:00:00,a b,hi", "refuse,,taken"})
            assertRefused(text);
        assertRefused("login," + longName + ",127.0.0.1:5001");
        assertRefused("talk,1," + longName + ",hi");
        decodeOk("login," + std::string(32, 'a') + ",127.0.0.1:5001");
    }

    void testRefuseBadEndpoint()
    {
        for (const std::string text : {"login,alice,localhost:5001", "login,alice,127.0.0.1", "login,alice,127.0.0.1:0",
                                       "login,alice,127.0.0.1:65536", "login,alice,::1:5001", "login,alice,1.2.3:4",
                                       "logout,alice,example.com:5001", "logout,alice,"})
            assertRefused(text);
    }

    void testRefuseBadDialect()
    {
        for (const std::string text : {"login,alice,127.0.0.1:5001,", "login,alice,127.0.0.1:5001,Peerchat/1",
                                       "login,alice,127.0.0.1:5001,peer chat", "login,alice,127.0.0.1:5001,peerchat_1",
                                       "login,alice,127.0.0.1:5001,天涯"})
            assertRefused(text);
        assertRefused("login,alice,127.0.0.1:5001," + std::string(33, 'a'));
        decodeOk("login,alice,127.0.0.1:5001," + std::string(32, 'a'));
    }

    void testRefuseBadAcceptPort()
    {
        for (const std::string text : {"Accept,0", "Accept,65536", "Accept,-1", "Accept,+5", "Accept,abc", "Accept,5001x",
                                       "Accept,0x10", "Accept,99999999999999999999", "Accept, "})
            assertRefused(text);
    }

    void testRefuseBadRefuseReason()
    {
        for (const std::string text : {"refuse,alice,", "refuse,alice,Taken", "refuse,alice,not yours"})
            assertRefused(text);
    }

    void testRefuseBadTalkTime()
    {
        assertRefused("talk,,alice,hi");
        assertRefused("talk, ,alice,hi");
        assertRefused("talk," + std::string(33, '1') + ",alice,hi");
        decodeOk("talk," + std::string(32, '1') + ",alice,hi");
        for (const std::string text : {"talk,12\t00,alice,hi", "talk,12:00\x1b,alice,hi", "talk,12:00\x7f,alice,hi",
                                       "talk,12:00\r,alice,hi", "talk,12:00\xC2\x85,alice,hi",
                                       "talk,12:00\xC2\x9B" "31m,alice,hi"})
            assertRefused(text);
        // A locale's long time may hold letters and non-ASCII text.
        CPPUNIT_ASSERT_EQUAL(std::string("下午3:04:05"), std::get<Talk>(decodeOk("talk,下午3:04:05,alice,hi")).time);
    }

    void testLimitTalkTextTo4096Bytes()
    {
        CPPUNIT_ASSERT_EQUAL(std::size_t(4096), Protocol::kMaxTextBytes);
        const std::string ascii(4096, 'x');
        CPPUNIT_ASSERT_EQUAL(ascii, std::get<Talk>(decodeOk("talk,1,bob," + ascii)).text);
        assertRefused("talk,1,bob," + ascii + "x");

        std::string cjk;
        while (cjk.size() + 3 <= 4096) cjk += "天";
        cjk += std::string(4096 - cjk.size(), '!');
        CPPUNIT_ASSERT_EQUAL(cjk, std::get<Talk>(decodeOk("talk,1,bob," + cjk)).text);
        assertRefused("talk,1,bob," + cjk + "涯");

        // The longest talk a .NET peer can send fits in a datagram.
        const Talk longest{std::string(32, '1'), std::string(32, 'b'), ascii};
        const std::string datagram = Protocol::encodeDatagram(longest, TextEncoding::Utf16le);
        CPPUNIT_ASSERT(datagram.size() <= Protocol::kMaxDatagramBytes);
        const auto decoded = Protocol::decodeDatagram(datagram);
        CPPUNIT_ASSERT_MESSAGE(decoded.error(), decoded.ok());
        CPPUNIT_ASSERT_EQUAL(describe(longest), describe(decoded->message));
        assertDatagramRefused(Protocol::encodeDatagram(Talk{"1", "bob", ascii + "x"}, TextEncoding::Utf16le));
    }

    void testRefuseNulInTalkText()
    {
        assertRefused(std::string("talk,1,bob,a\0b", 14));
        assertRefused(std::string("talk,1,bob,\0", 12));
        assertDatagramRefused(asciiUtf16le(std::string("talk,1,bob,a\0b", 14)));
    }

    void testRefuseInvalidUtf8()
    {
        for (const std::string text : {"talk,1,bob,\xFF", "talk,1,bob,\xC0\xAF", "talk,1,bob,\xED\xA0\x80",
                                       "talk,1,bob,\xE5\xA4", "login,\xE5\xA4,127.0.0.1:5001", "talk,1\x80,bob,hi"})
            assertRefused(text);
    }

    void testRefuseOversizeDatagram()
    {
        CPPUNIT_ASSERT_EQUAL(std::size_t(8704), Protocol::kMaxDatagramBytes);
        assertRefused("talk,1,bob," + std::string(Protocol::kMaxDatagramBytes, 'x'));
        // Too big on the wire even though its text would be short enough after decoding.
        assertDatagramRefused(asciiUtf16le("talk,1,bob,") + std::string(Protocol::kMaxDatagramBytes, 'x'));
        assertDatagramRefused(std::string(Protocol::kMaxDatagramBytes + 1, 'l'));
        assertDatagramRefused(std::string(1 << 20, ','));
    }

    void testRefuseMalformedUtf16le()
    {
        const std::string prefix = asciiUtf16le("talk,1,bob,");
        assertDatagramRefused(prefix + "x");                                     // odd length
        assertDatagramRefused(std::string("l\0o", 3));                           // odd length
        assertDatagramRefused(prefix + std::string("\x3D\xD8", 2));             // high surrogate at the end
        assertDatagramRefused(prefix + std::string("\x3D\xD8\x41\x00", 4));     // high surrogate, then 'A'
        assertDatagramRefused(prefix + std::string("\x00\xDE", 2));             // low surrogate alone
        assertDatagramRefused(prefix + std::string("\x00\x00", 2));             // NUL
        assertDatagramRefused(asciiUtf16le("login,alice"));                      // well-formed, but truncated
        assertDatagramRefused(asciiUtf16le("hello"));
        assertDatagramRefused(std::string("\0\0", 2));
    }

    void testRoundTripDialectTokens()
    {
        CPPUNIT_ASSERT_EQUAL(std::string_view("seed"), dialectToken(Dialect::Seed));
        CPPUNIT_ASSERT_EQUAL(std::string_view("dotnet"), dialectToken(Dialect::DotNet));
        CPPUNIT_ASSERT_EQUAL(std::string_view("peerchat/1"), dialectToken(Dialect::Peerchat));
        for (Dialect d : {Dialect::Seed, Dialect::DotNet, Dialect::Peerchat}) {
            CPPUNIT_ASSERT(dialectFromToken(dialectToken(d)) == d);
            // Every known token is a valid dialect field on the wire.
            const std::string login = "login,alice,127.0.0.1:5001," + std::string(dialectToken(d));
            CPPUNIT_ASSERT_EQUAL(std::string(dialectToken(d)), std::get<Login>(decodeOk(login)).dialect);
        }
        for (const std::string token : {"", "peerchat/2", "peerchat", "Seed", "dotnet ", "x"})
            CPPUNIT_ASSERT_MESSAGE(token, !dialectFromToken(token).has_value());
        // Unknown tokens may still have the form of one.
        for (const auto& token : std::vector<std::string>{"peerchat/2", "x", "a-b.c/0", "seed", std::string(32, 'a')})
            CPPUNIT_ASSERT_MESSAGE(token, isDialectToken(token));
        for (const auto& token :
             std::vector<std::string>{"", "Seed", "peer chat", "a,b", "a;b", "天涯", "\x1b[0m", std::string(33, 'a')})
            CPPUNIT_ASSERT_MESSAGE(token, !isDialectToken(token));
    }

    void testSurviveRandomDatagrams()
    {
        std::vector<std::string> corpus;
        for (const Message& message : sampleMessages()) {
            corpus.push_back(Protocol::encodeDatagram(message, TextEncoding::Utf8));
            corpus.push_back(Protocol::encodeDatagram(message, TextEncoding::Utf16le));
        }
        corpus.push_back("login, alice, 127.0.0.1:5001, peerchat/1");
        test::ByteFuzzer fuzzer(20240601, {"login", "logout", "Accept", "talk", "refuse", ",", ", ", ":", "[", "]",
                                           "::1", "127.0.0.1", ":5001", "alice", "天涯", "peerchat/1", "dotnet",
                                           std::string(1, '\0'), "\xF0\x9F\x98\x80", "\xED\xA0\x80", "\xC0\xAF"});
        std::size_t accepted = 0;
        for (int i = 0; i < 20000; ++i) {
            std::string bytes;
            if (i % 2 == 0) {
                bytes = fuzzer.randomBytes(24);
            } else {
                bytes = fuzzer.mutate(corpus[fuzzer.below(corpus.size())]);
            }
            const auto inbound = Protocol::decodeDatagram(bytes);
            if (!inbound.ok()) {
                CPPUNIT_ASSERT_MESSAGE("refusal without a reason", !inbound.error().empty());
                continue;
            }
            ++accepted;
            assertReencodes(*inbound, bytes);
            const auto asText = Protocol::decode(Protocol::encode(inbound->message));
            CPPUNIT_ASSERT_MESSAGE(asText.error(), asText.ok());
            CPPUNIT_ASSERT_EQUAL(describe(inbound->message), describe(*asText));
        }
        // The mutations keep enough datagrams valid to exercise the re-encoding check.
        CPPUNIT_ASSERT_MESSAGE(std::to_string(accepted) + " accepted", accepted > 500);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProtocolTest);
