#include "Base64.h"
#include "ByteFuzzer.h"
#include "KxKeyPair.h"
#include "OfflineBox.h"
#include "Protocol.h"
#include "SessionCipher.h"
#include "SigningKey.h"
#include "TestKeys.h"
#include "Utf8.h"

#include <cppunit/extensions/HelperMacros.h>

#include <climits>
#include <string>
#include <vector>

using namespace peerchat;
using test::bytes;
using test::keys;

namespace {

Endpoint endpoint(const std::string& text)
{
    return *Endpoint::parse(text);
}

std::string field(const std::string& s)
{
    return "[" + std::to_string(s.size()) + ":" + s + "]";
}

template <std::size_t N>
std::string field(const std::array<std::uint8_t, N>& bytes)
{
    return field(Base64::encode(bytes));
}

std::string field(const PeerKeys& keys)
{
    return field(keys.identity) + field(keys.kx) + field(keys.kxSig);
}

template <typename T>
std::string field(const std::optional<T>& value)
{
    return value ? field(*value) : std::string("[none]");
}

struct Describer
{
    std::string operator()(const Login& m) const
    {
        return "Login" + field(m.name) + field(m.endpoint.toString()) + field(m.dialect);
    }
    std::string operator()(const Accept& m) const { return "Accept" + field(std::to_string(m.port)); }
    std::string operator()(const Logout& m) const
    {
        return "Logout" + field(m.name) + field(m.endpoint.toString());
    }
    std::string operator()(const Talk& m) const { return "Talk" + field(m.time) + field(m.from) + field(m.text); }
    std::string operator()(const Refuse& m) const { return "Refuse" + field(m.name) + field(m.reason) + field(m.echo); }
    std::string operator()(const Msg& m) const
    {
        return "Msg" + field(m.stream) + field(std::to_string(m.seq)) + field(m.time) + field(m.from) + field(m.to) +
               field(m.text);
    }
    std::string operator()(const Ack& m) const
    {
        std::string out = "Ack" + field(m.from) + field(m.stream) + field(std::to_string(m.seq));
        for (const SeqRange& range : m.held) out += field(std::to_string(range.first) + ".." + std::to_string(range.last));
        return out;
    }
    std::string operator()(const Alive& m) const
    {
        return "Alive" + field(m.name) + field(std::to_string(m.seq)) +
               (m.candidates ? field(CandidateList::format(*m.candidates)) : std::string("[none]"));
    }
    std::string operator()(const Punch& m) const { return "Punch" + field(m.peer); }
    std::string operator()(const Meet& m) const { return "Meet" + field(m.peer) + field(CandidateList::format(m.candidates)); }
    std::string operator()(const Probe& m) const { return "Probe" + field(m.from) + field(m.to) + field(m.token); }
    std::string operator()(const Probed& m) const { return "Probed" + field(m.from) + field(m.to) + field(m.token); }
    std::string operator()(const Caps& m) const
    {
        return "Caps" + field(m.from) + field(m.to) + field(m.features) + field(m.answer ? "answer" : "ask");
    }
    std::string operator()(const Whois& m) const { return "Whois" + field(m.name); }
    std::string operator()(const Typing& m) const { return "Typing" + field(m.from) + field(m.to); }
    std::string operator()(const ContactsDeclaration& m) const
    {
        std::string out = "ContactsDeclaration" + field(m.name) + field(std::to_string(m.version)) +
                          field(std::to_string(m.part)) + field(std::to_string(m.parts)) +
                          field(std::string(presenceStateToken(m.state))) + field(m.status);
        for (const std::string& name : m.names) out += field(name);
        return out + field(m.sig);
    }
    std::string operator()(const Declared& m) const { return "Declared" + field(std::to_string(m.version)); }
    std::string operator()(const Here& m) const
    {
        return "Here" + field(std::to_string(m.seq)) + field(m.name) + field(m.endpoint.toString()) + field(m.dialect) +
               (m.keys ? field(m.keys->identity) + field(m.keys->kx) + field(m.keys->kxSig) : std::string("[no keys]")) +
               field(std::string(presenceStateToken(m.state))) + field(m.status);
    }
    std::string operator()(const Gone& m) const { return "Gone" + field(std::to_string(m.seq)) + field(m.name); }
    std::string operator()(const Snapshot& m) const
    {
        return "Snapshot" + field(std::to_string(m.seq)) + field(std::to_string(m.count));
    }
    std::string operator()(const NameKey& m) const { return "NameKey" + field(m.name) + field(m.identity); }
    std::string operator()(const ContactLetter& m) const
    {
        return "ContactLetter" + field(m.stream) + field(std::to_string(m.seq)) + field(m.from) + field(m.to) +
               field(std::string(contactKindToken(m.kind))) + field(m.note);
    }
    std::string operator()(const Turn& m) const
    {
        return "Turn" + field(m.server.toString()) + field(std::to_string(m.expiry)) + field(m.key);
    }
    std::string operator()(const Seen& m) const { return "Seen" + field(std::to_string(m.seq)); }
    std::string operator()(const Relogin& m) const { return "Relogin" + field(m.name); }
    std::string operator()(const Stored& m) const { return "Stored" + field(m.to) + field(m.stream) + field(std::to_string(m.seq)); }
    std::string operator()(const Full& m) const
    {
        return "Full" + field(m.to) + field(m.stream) + field(std::to_string(m.seq))
               + field(std::string(fullReasonToken(m.reason)));
    }
    std::string operator()(const Hello& m) const
    {
        return "Hello" + field(m.name) + field(m.dialect) + field(std::to_string(m.padding)) + field(m.nonce);
    }
    std::string operator()(const Challenge& m) const
    {
        return "Challenge" + field(m.name) + field(m.observed.toString()) + field(m.nonce) + field(m.echo) +
               field(m.epoch) + field(m.indexIdentity) + field(m.sig);
    }
    std::string operator()(const Auth& m) const
    {
        return "Auth" + field(m.name) + field(m.observed.toString()) + field(m.dialect) + field(m.keys) + field(m.nonce)
               + field(m.sig);
    }
    std::string operator()(const Welcome& m) const
    {
        return "Welcome" + field(m.name) + field(m.epoch) + field(m.indexIdentity)
               + field(m.indexKx) + field(m.sig);
    }
    std::string operator()(const Seal& m) const
    {
        return "Seal" + field(m.sender) + field(m.recipient) + field(std::to_string(m.counter)) + field(m.box);
    }
    std::string operator()(const Post& m) const
    {
        return "Post" + field(m.to) + field(m.stream) + field(std::to_string(m.seq)) + field(m.box);
    }
    std::string operator()(const Mail& m) const
    {
        return "Mail" + field(m.from) + field(m.identity) + field(m.stream) + field(std::to_string(m.seq)) + field(m.box);
    }
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
        Login{"天涯", endpoint("[::1]:5002"), "peerchat/2"},
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
        Refuse{"bob", "busy", bytes<24>(5)},
        Hello{"alice", "peerchat/2", 0},
        Hello{"天涯", "peerchat/2", 150},
        Hello{"alice", "peerchat/2", 117, bytes<24>(8)},
        Hello{"bob", "peerchat/2", 0, bytes<24>(9)},
        Challenge{"alice", endpoint("127.0.0.1:5001"), bytes<24>(3), bytes<24>(8), bytes<8>(1), bytes<32>(2), bytes<64>(3)},
        Challenge{"天涯", endpoint("[2001:db8::1]:65535"), bytes<24>(250), bytes<24>(9), bytes<8>(4), bytes<32>(5),
                  bytes<64>(6)},
        Auth{"alice", endpoint("127.0.0.1:5001"), "peerchat/2", keys(11), bytes<24>(3), bytes<64>(99)},
        Welcome{"alice", bytes<8>(1), bytes<32>(2), bytes<32>(3), bytes<64>(4)},
        Seal{bytes<8>(10), bytes<8>(20), 1, "\x01"},
        Seal{bytes<8>(30), bytes<8>(40), UINT64_MAX, std::string(300, '\xff')},
        Post{"bob", "0123456789abcdef", 7, std::string("sealed\0box", 10)},
        Mail{"天涯", bytes<32>(77), "ff", Protocol::kMaxSequence, "box"},
        Relogin{},
        Msg{"0123456789abcdef", 1, "15:04:05", "alice", "bob", "hello, with, commas"},
        Msg{"a", Protocol::kMaxSequence, "12:00:00", "天涯", "alice", ""},
        Ack{"bob", "0123456789abcdef", 7, {}},
        Ack{"bob", "ff", 7, {{9, 9}, {11, 40}, {42, Protocol::kMaxSequence}}},
        Ack{"bob", "ff", 0, {{2, 5}}},
        Alive{"alice", 0},
        Alive{"天涯", 123456789},
        Alive{"alice", 7, std::vector<Candidate>{}},
        Alive{"alice", 8, std::vector<Candidate>{{CandidateKind::Host, endpoint("10.0.1.2:5001")},
                                                 {CandidateKind::Host, endpoint("[fe80::1]:5001")},
                                                 {CandidateKind::Relay, endpoint("198.18.0.1:49152")}}},
        Punch{"bob"},
        Meet{"天涯", {{CandidateKind::Host, endpoint("10.0.2.2:6000")}, {CandidateKind::Reflexive, endpoint("198.18.0.12:6000")}}},
        Meet{"bob", {}},
        Probe{"alice", "bob", bytes<8>(1)},
        Probed{"bob", "alice", bytes<8>(2)},
        Turn{endpoint("198.18.0.1:3478"), 1796083200, bytes<20>(3)},
        Caps{"alice", "bob", "bundle", false},
        Caps{"天涯", "bob", "", true},
        Caps{"bob", "alice", "bundle.typing.v2/x", true},
        Whois{"天涯"},
        Typing{"alice", "天涯"},
        ContactsDeclaration{"alice", 1700000000000, 1, 1, PresenceState::Online, "", {"bob", "天涯"}, bytes<64>(4)},
        ContactsDeclaration{"alice", 7, 2, 16, PresenceState::Away, "back at 3, or 4; 或者", {}, bytes<64>(5)},
        ContactsDeclaration{"alice", 8, 1, 1, PresenceState::Invisible, "", {"bob"}, bytes<64>(6)},
        Declared{1700000000000},
        Here{1, "bob", endpoint("127.0.0.1:5002"), "peerchat/3",
             PeerKeys{bytes<32>(20), bytes<32>(21), bytes<64>(22)}, PresenceState::Online, ""},
        Here{Protocol::kMaxSequence, "天涯", endpoint("[::1]:6000"), "peerchat/3",
             PeerKeys{bytes<32>(23), bytes<32>(24), bytes<64>(25)}, PresenceState::Busy, "in a meeting, back at 3"},
        Here{7, "seedy", endpoint("10.0.0.1:7000"), "seed", std::nullopt, PresenceState::Online, ""},
        Gone{2, "bob"},
        Snapshot{3, 0},
        Snapshot{4, 1000},
        NameKey{"bob", bytes<32>(12)},
        NameKey{"nobody", std::nullopt},
        ContactLetter{"0123456789abcdef", 1, "alice", "bob", ContactKind::Request, "hi bob, it's alice, from work"},
        ContactLetter{"ff", 2, "天涯", "bob", ContactKind::Request, ""},
        ContactLetter{"ff", 3, "bob", "alice", ContactKind::Accept, ""},
        ContactLetter{"ff", Protocol::kMaxSequence, "bob", "alice", ContactKind::Decline, ""},
        ContactLetter{"ff", 5, "bob", "alice", ContactKind::Remove, ""},
        Seen{0},
        Seen{99},
        Relogin{"alice"},
        Stored{"bob", "ff", 3},
        Full{"bob", "ff", 4},
        Full{"bob", "ff", 5, FullReason::Recipient},
        Full{"bob", "ff", 6, FullReason::Pair},
        Full{"bob", "ff", 7, FullReason::Sender},
        Full{"bob", "ff", 8, FullReason::Disk},
        Full{"bob", "ff", 9, FullReason::Unknown},
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
    CPPUNIT_TEST(testAckNamesAtMost32HeldRuns);
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
    CPPUNIT_TEST(testEncodeHandshakeExactly);
        CPPUNIT_TEST(testEncodeUnsignedWithoutSignature);
    CPPUNIT_TEST(testEncodeSealedVerbsExactly);
    CPPUNIT_TEST(testRoundTripBareRelogin);
    CPPUNIT_TEST(testEncodePathVerbsExactly);
    CPPUNIT_TEST(testRefuseMalformedPathVerbs);
    CPPUNIT_TEST(testReadUnknownFullReasonAsUnstated);
    CPPUNIT_TEST(testEncodeAndRefuseCaps);
    CPPUNIT_TEST(testEncodeAndRefuseContactVerbs);
    CPPUNIT_TEST(testDecodeBundlePartByPart);
    CPPUNIT_TEST(testAppendEncodedWritesAfterWhatIsThere);
    CPPUNIT_TEST(testRefuseMalformedHandshake);
    CPPUNIT_TEST(testRefuseRetiredSignedPresence);
    CPPUNIT_TEST(testRefuseMalformedSealedVerbs);
    CPPUNIT_TEST(testRefuseRetiredStore);
    CPPUNIT_TEST(testPadHelloBeyondAnyChallenge);
    CPPUNIT_TEST(testFitSealedPostOfLongestText);
    CPPUNIT_TEST_SUITE_END();

public:
    void testRoundTripReliabilityVerbs()
    {
        for (const auto& message : sampleMessages()) {
            const std::string text = Protocol::encode(message);
            CPPUNIT_ASSERT_EQUAL(describe(message), describe(decodeOk(text)));
            CPPUNIT_ASSERT_EQUAL(text, Protocol::encode(decodeOk(text)));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("msg,ff,3,12:00:01,alice,bob,a,b"),
                             Protocol::encode(Msg{"ff", 3, "12:00:01", "alice", "bob", "a,b"}));
    }

    void testRefuseMalformedReliabilityVerbs()
    {
        for (const std::string text :
             {"msg,ff,1,12:00:00,alice,bob", "msg,ff,1,12:00:00,alice,hi", "msg,FF,1,12:00:00,alice,bob,hi",
              "msg,0123456789abcdef0,1,12:00:00,alice,bob,hi", "msg,ff,0,12:00:00,alice,bob,hi",
              "msg,ff,01,12:00:00,alice,bob,hi", "msg,ff,-1,12:00:00,alice,bob,hi",
              "msg,ff,9223372036854775808,12:00:00,alice,bob,hi", "msg,,1,12:00:00,alice,bob,hi",
              "msg,ff,1,,alice,bob,hi", "msg,ff,1,12:00:00,alice,,hi", "msg,ff,1,12:00:00,alice,b b,hi",
              "ack,bob,ff", "ack,bob,ff,0", "ack,bob,xyz,1", "ack,bob,ff,1,2", "ack,bob,ff,1,",
              "ack,bob,ff,1,3-", "ack,bob,ff,1,-3", "ack,bob,ff,1,1-3", "ack,bob,ff,1,4-3", "ack,bob,ff,1,3-4.4-5",
              "ack,bob,ff,1,5-6.3-4", "ack,bob,ff,1,3-4.", "ack,bob,ff,1,3-4,6-7", "ack,bob,ff,1,03-4",
              "ack,bob,ff,1,3-9223372036854775808", "ack,bob,ff,0,", "ack,bob,ff,00,2-5", "alive,alice", "alive,alice,-3",
              "alive,alice,00", "seen,", "seen,x", "relogin,", "relogin,a,b", "store,bob,ff,1,12:00:00,alice",
              "stored,bob,ff", "full,bob,ff,x", "full,bob,ff,3,Disk", "full,bob,ff,3,disk,x", "full,bob,ff,3,", "login,bob,127.0.0.1:6000,peerchat/2,42",
              "logout,bob,127.0.0.1:6000,43"})
            assertRefused(text);
    }

    void testAckNamesAtMost32HeldRuns()
    {
        Ack ack{"bob", "ff", 1, {}};
        for (std::uint64_t i = 0; i < Protocol::kMaxAckRanges; ++i) ack.held.push_back({3 + 2 * i, 3 + 2 * i});
        const std::string longest = Protocol::encode(Message{ack});
        CPPUNIT_ASSERT_EQUAL(describe(Message{ack}), describe(decodeOk(longest)));
        assertRefused(longest + ".99-99");
    }

    void testRoundTripLogin()
    {
        const Message plain = Login{"alice", endpoint("127.0.0.1:5001"), ""};
        CPPUNIT_ASSERT_EQUAL(std::string("login,alice,127.0.0.1:5001"), Protocol::encode(plain));
        CPPUNIT_ASSERT_EQUAL(describe(plain), describe(decodeOk("login,alice,127.0.0.1:5001")));

        const Message dialect = Login{"天涯", endpoint("[::1]:5002"), "peerchat/2"};
        CPPUNIT_ASSERT_EQUAL(std::string("login,天涯,[::1]:5002,peerchat/2"), Protocol::encode(dialect));
        CPPUNIT_ASSERT_EQUAL(describe(dialect), describe(decodeOk("login,天涯,[::1]:5002,peerchat/2")));

        // Unknown tokens are carried as they are; what they mean is indexd's business.
        const Login other = std::get<Login>(decodeOk("login,bob,10.0.0.1:7,peerchat/3"));
        CPPUNIT_ASSERT_EQUAL(std::string("peerchat/3"), other.dialect);
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
            {"login,  alice,   [::1]:5001,  peerchat/2", "login,alice,[::1]:5001,peerchat/2"},
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
        CPPUNIT_ASSERT_EQUAL(std::string_view("hello"), Protocol::verb(Hello{}));
        CPPUNIT_ASSERT_EQUAL(std::string_view("challenge"), Protocol::verb(Challenge{}));
        CPPUNIT_ASSERT_EQUAL(std::string_view("auth"), Protocol::verb(Auth{}));
        CPPUNIT_ASSERT_EQUAL(std::string_view("welcome"), Protocol::verb(Welcome{}));
        CPPUNIT_ASSERT_EQUAL(std::string_view("seal"), Protocol::verb(Seal{}));
        CPPUNIT_ASSERT_EQUAL(std::string_view("post"), Protocol::verb(Post{}));
        CPPUNIT_ASSERT_EQUAL(std::string_view("mail"), Protocol::verb(Mail{}));
        // Every sample names its own verb first on the wire.
        for (const Message& message : sampleMessages()) {
            const std::string text = Protocol::encode(message);
            CPPUNIT_ASSERT_EQUAL(std::string(Protocol::verb(message)), text.substr(0, text.find(',')));
        }
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
        for (const std::string text : {"login,alice,127.0.0.1:5001,peerchat/2,extra", "login,alice,127.0.0.1:5001,,",
                                       "logout,alice,127.0.0.1:5001,peerchat/2", "logout,alice,127.0.0.1:5001,",
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
        CPPUNIT_ASSERT_EQUAL(std::string_view("peerchat/3"), dialectToken(Dialect::Peerchat));
        CPPUNIT_ASSERT(!dialectFromToken("peerchat/2"));
        for (Dialect d : {Dialect::Seed, Dialect::DotNet, Dialect::Peerchat}) {
            CPPUNIT_ASSERT(dialectFromToken(dialectToken(d)) == d);
            // Every known token is a valid dialect field on the wire.
            const std::string login = "login,alice,127.0.0.1:5001," + std::string(dialectToken(d));
            CPPUNIT_ASSERT_EQUAL(std::string(dialectToken(d)), std::get<Login>(decodeOk(login)).dialect);
        }
        for (const std::string token : {"", "peerchat/1", "peerchat", "Seed", "dotnet ", "x"})
            CPPUNIT_ASSERT_MESSAGE(token, !dialectFromToken(token).has_value());
        // Unknown tokens may still have the form of one.
        for (const auto& token : std::vector<std::string>{"peerchat/1", "x", "a-b.c/0", "seed", std::string(32, 'a')})
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
        corpus.push_back("login, alice, 127.0.0.1:5001, peerchat/2");
        test::ByteFuzzer fuzzer(20240601, {"login", "logout", "Accept", "talk", "refuse", ",", ", ", ":", "[", "]",
                                           "::1", "127.0.0.1", ":5001", "alice", "天涯", "peerchat/2", "dotnet",
                                           std::string(1, '\0'), "\xF0\x9F\x98\x80", "\xED\xA0\x80", "\xC0\xAF",
                                           "hello", "challenge", "auth", "welcome", "seal", "post", "mail", "relogin",
                                           "-,-,-", "-", "000", "=", "+", "_", Base64::encode(bytes<32>(5)),
                                           Base64::encode(bytes<64>(6)), Base64::encode(bytes<24>(7))});
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

    void testEncodeHandshakeExactly()
    {
        const std::string k = Base64::encode(bytes<32>(11)), x = Base64::encode(bytes<32>(43)),
                          xs = Base64::encode(bytes<64>(75)), n = Base64::encode(bytes<24>(3)),
                          h = Base64::encode(bytes<24>(8)), e = Base64::encode(bytes<8>(1)),
                          sig = Base64::encode(bytes<64>(99));
        CPPUNIT_ASSERT_EQUAL(std::size_t(43), k.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(86), sig.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(32), n.size());
        const std::vector<std::pair<Message, std::string>> cases = {
            {Hello{"alice", "peerchat/3", 3, bytes<24>(8)}, "hello,alice,peerchat/3," + h + ",000"},
            {Hello{"alice", "peerchat/3", 0, bytes<24>(8)}, "hello,alice,peerchat/3," + h + ","},
            {Challenge{"alice", endpoint("[::1]:5001"), bytes<24>(3), bytes<24>(8), bytes<8>(1), bytes<32>(11),
                       bytes<64>(99)},
             "challenge,alice,[::1]:5001," + n + "," + h + "," + e + "," + k + "," + sig},
            {Auth{"alice", endpoint("127.0.0.1:5001"), "peerchat/3", keys(11), bytes<24>(3), bytes<64>(99)},
             "auth,alice,127.0.0.1:5001,peerchat/3," + k + "," + x + "," + xs + "," + n + "," + sig},
            {Welcome{"alice", bytes<8>(1), bytes<32>(2), bytes<32>(3), bytes<64>(99)},
             "welcome,alice," + Base64::encode(bytes<8>(1)) + "," + Base64::encode(bytes<32>(2)) + ","
                 + Base64::encode(bytes<32>(3)) + "," + sig},
        };
        for (const auto& [message, text] : cases) {
            CPPUNIT_ASSERT_EQUAL(text, Protocol::encode(message));
            CPPUNIT_ASSERT_EQUAL(describe(message), describe(decodeOk(text)));
        }
        // A parser takes spaces after commas here too.
        CPPUNIT_ASSERT_EQUAL(describe(cases[2].first),
                             describe(decodeOk("challenge, alice, [::1]:5001, " + n + ", " + h + ", " + e + ", " + k +
                                               ", " + sig)));
    }

    void testEncodeUnsignedWithoutSignature()
    {
        const Signature sig = bytes<64>(200);
        const std::vector<Message> signedOnes = {
            ContactsDeclaration{"alice", 9, 1, 1, PresenceState::Away, "hi", {"bob"}, sig},
            Auth{"alice", endpoint("127.0.0.1:5001"), "peerchat/2", keys(11), bytes<24>(3), sig},
            Welcome{"alice", bytes<8>(1), bytes<32>(2), bytes<32>(3), sig},
            Challenge{"alice", endpoint("127.0.0.1:5001"), bytes<24>(3), bytes<24>(8), bytes<8>(1), bytes<32>(2), sig},
        };
        for (const Message& message : signedOnes) {
            const std::string full = Protocol::encode(message);
            CPPUNIT_ASSERT_EQUAL(full.substr(0, full.size() - 87), Protocol::encodeUnsigned(message));
            CPPUNIT_ASSERT_EQUAL("," + Base64::encode(sig), full.substr(full.size() - 87));
        }
        // Spaces a sender added do not change the text signed over.
        const std::string spaced = "contacts, alice, 9, 1, 1, away, " + Base64::encode(std::string("hi")) + ", bob, "
                                   + Base64::encode(sig);
        CPPUNIT_ASSERT_EQUAL(Protocol::encodeUnsigned(signedOnes[0]), Protocol::encodeUnsigned(decodeOk(spaced)));
        // Messages without a signature are their own unsigned text.
        for (const Message& message : sampleMessages()) {
            if (std::holds_alternative<Auth>(message) || std::holds_alternative<Welcome>(message) ||
                std::holds_alternative<Challenge>(message) || std::holds_alternative<ContactsDeclaration>(message))
                continue;
            CPPUNIT_ASSERT_EQUAL(Protocol::encode(message), Protocol::encodeUnsigned(message));
        }
    }

    void testEncodeSealedVerbsExactly()
    {
        const Message seal = Seal{bytes<8>(10), bytes<8>(20), 12, "abc"};
        const std::string sealText =
            "seal," + Base64::encode(bytes<8>(10)) + "," + Base64::encode(bytes<8>(20)) + ",12,YWJj";
        CPPUNIT_ASSERT_EQUAL(std::size_t(11), Base64::encode(bytes<8>(10)).size());
        CPPUNIT_ASSERT_EQUAL(sealText, Protocol::encode(seal));
        CPPUNIT_ASSERT_EQUAL(describe(seal), describe(decodeOk(sealText)));

        const Message post = Post{"bob", "ff", 3, "abc"};
        CPPUNIT_ASSERT_EQUAL(std::string("post,bob,ff,3,YWJj"), Protocol::encode(post));
        CPPUNIT_ASSERT_EQUAL(describe(post), describe(decodeOk("post,bob,ff,3,YWJj")));

        const Message mail = Mail{"alice", bytes<32>(1), "ff", 3, "abc"};
        const std::string mailText = "mail,alice," + Base64::encode(bytes<32>(1)) + ",ff,3,YWJj";
        CPPUNIT_ASSERT_EQUAL(mailText, Protocol::encode(mail));
        CPPUNIT_ASSERT_EQUAL(describe(mail), describe(decodeOk(mailText)));

        // Any byte may be in a box; the counter takes the whole 64-bit range.
        std::string every;
        for (int b = 0; b < 256; ++b) every.push_back(static_cast<char>(b));
        const Message all = Seal{bytes<8>(0), bytes<8>(248), UINT64_MAX, every};
        CPPUNIT_ASSERT_EQUAL(describe(all), describe(decodeOk(Protocol::encode(all))));
    }

    void testEncodePathVerbsExactly()
    {
        const Message alive = Alive{"alice", 3, std::vector<Candidate>{{CandidateKind::Host, endpoint("10.0.1.2:5001")},
                                                                      {CandidateKind::Relay, endpoint("[::1]:9")}}};
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,3,host=10.0.1.2:5001;relay=[::1]:9"), Protocol::encode(alive));
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,3,-"), Protocol::encode(Alive{"alice", 3, std::vector<Candidate>{}}));
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,3"), Protocol::encode(Alive{"alice", 3}));
        CPPUNIT_ASSERT_EQUAL(std::string("punch,bob"), Protocol::encode(Punch{"bob"}));
        CPPUNIT_ASSERT_EQUAL(std::string("meet,bob,srflx=198.18.0.12:6000"),
                             Protocol::encode(Meet{"bob", {{CandidateKind::Reflexive, endpoint("198.18.0.12:6000")}}}));
        CPPUNIT_ASSERT_EQUAL("probe,alice,bob," + Base64::encode(bytes<8>(4)),
                             Protocol::encode(Probe{"alice", "bob", bytes<8>(4)}));
        CPPUNIT_ASSERT_EQUAL("probed,bob,alice," + Base64::encode(bytes<8>(4)),
                             Protocol::encode(Probed{"bob", "alice", bytes<8>(4)}));
        CPPUNIT_ASSERT_EQUAL("turn,198.18.0.1:3478,1796083200," + Base64::encode(bytes<20>(5)),
                             Protocol::encode(Turn{endpoint("198.18.0.1:3478"), 1796083200, bytes<20>(5)}));
    }

    void testRefuseMalformedPathVerbs()
    {
        const std::string token = Base64::encode(bytes<8>(1));
        const std::string key = Base64::encode(bytes<20>(1));
        std::string nine = "host=10.0.0.1:1";
        for (int i = 2; i <= 9; ++i) nine += ";host=10.0.0." + std::to_string(i) + ":1";
        for (const std::string& text : std::vector<std::string>{
                 "alive,alice,1,", "alive,alice,1,host", "alive,alice,1,host=", "alive,alice,1,lan=10.0.0.1:1",
                 "alive,alice,1,host=10.0.0.1:0", "alive,alice,1,host=example.com:1", "alive,alice,1,host=10.0.0.1:1;",
                 "alive,alice,1,;host=10.0.0.1:1", "alive,alice,1,HOST=10.0.0.1:1", "alive,alice,1," + nine,
                 "alive,alice,1,-,x", "punch", "punch,", "punch,a b", "punch,bob,x", "meet,bob", "meet,bob,",
                 "meet,,-", "probe,alice,bob", "probe,alice,bob,", "probe,alice,bob,AAAA", "probe,alice,," + token,
                 "probed,alice,bob," + token + ",x", "probed,alice,bob," + Base64::encode(bytes<24>(1)),
                 "turn", "turn,198.18.0.1:3478,1", "turn,turn.example:3478,1," + key, "turn,198.18.0.1:3478,0," + key,
                 "turn,198.18.0.1:3478,1," + token, "turn,198.18.0.1:3478,1," + key + ",x"})
            assertRefused(text);
        CPPUNIT_ASSERT_EQUAL(std::size_t(8),
                             std::get<Alive>(decodeOk("alive,alice,1," + nine.substr(0, nine.rfind(';')))).candidates->size());
    }

    void testEncodeAndRefuseContactVerbs()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("whois,bob"), Protocol::encode(Whois{"bob"}));
        CPPUNIT_ASSERT_EQUAL(std::string("typing,alice,bob"), Protocol::encode(Typing{"alice", "bob"}));
        CPPUNIT_ASSERT_EQUAL(std::string("contacts,alice,9,1,2,online,-,bob;carol"),
                             Protocol::encodeUnsigned(ContactsDeclaration{"alice", 9, 1, 2, PresenceState::Online, "",
                                                                          {"bob", "carol"}, {}}));
        CPPUNIT_ASSERT_EQUAL(std::string("contacts,alice,9,2,2,away,aGk,-"),
                             Protocol::encodeUnsigned(ContactsDeclaration{"alice", 9, 2, 2, PresenceState::Away, "hi", {}, {}}));
        const std::string sig = "," + std::string(86, 'A');
        const std::string tooLong = Base64::encode(std::string(141, 'x'));
        const std::string control = Base64::encode(std::string("a\x1b[2Jb"));
        for (const std::string& bad : std::vector<std::string>{"contacts,alice,9,3,2,online,-,bob" + sig, "contacts,alice,9,0,2,online,-,bob" + sig,
                                      "contacts,alice,9,1,17,online,-,bob" + sig, "contacts,alice,9,1,1,online,-,bob;bob" + sig,
                                      "contacts,alice,9,1,1,online,-,bob;" + sig, "contacts,alice,9,1,1,online,-,b b" + sig,
                                      std::string("contacts,alice,9,1,1,online,-,bob"), "contacts,alice,9,1,1,online,-," + std::string(3001, 'x') + sig,
                                      "contacts,alice,9,1,1,asleep,-,bob" + sig, "contacts,alice,9,1,1,online,!!,bob" + sig,
                                      "contacts,alice,9,1,1,online,,bob" + sig, "contacts,alice,9,1,1,online," + tooLong + ",bob" + sig,
                                      "contacts,alice,9,1,1,online," + control + ",bob" + sig, "contacts,alice,9,1,1,bob" + sig,
                                      std::string("declared,0")}) {
            CPPUNIT_ASSERT_MESSAGE("accepted: " + bad, !Protocol::decode(bad).ok());
        }
        CPPUNIT_ASSERT_EQUAL(std::string("key,nobody,-"), Protocol::encode(NameKey{"nobody", std::nullopt}));
        CPPUNIT_ASSERT_EQUAL(std::string("contact,ff,7,alice,bob,request,hi, it's me"),
                             Protocol::encode(ContactLetter{"ff", 7, "alice", "bob", ContactKind::Request, "hi, it's me"}));
        CPPUNIT_ASSERT_EQUAL(std::string("contact,ff,8,bob,alice,accept,"),
                             Protocol::encode(ContactLetter{"ff", 8, "bob", "alice", ContactKind::Accept, ""}));
        const std::string keys = "," + std::string(43, 'A') + "," + std::string(43, 'B') + "," + std::string(86, 'C');
        CPPUNIT_ASSERT_EQUAL(std::string("here,3,bob,127.0.0.1:5002,seed,-,-,-,away,back, soon"),
                             Protocol::encode(Here{3, "bob", endpoint("127.0.0.1:5002"), "seed", std::nullopt,
                                                   PresenceState::Away, "back, soon"}));
        for (const std::string& bad : std::vector<std::string>{
                 "here,0,bob,127.0.0.1:5002,peerchat/3" + keys + ",online,", "here,1,bob,127.0.0.1:5002,peerchat/3" + keys,
                 "here,1,bob,127.0.0.1:5002,peerchat/3" + keys + ",invisible,", "here,1,bob,127.0.0.1:5002,peerchat/3" + keys + ",gone,",
                 "here,1,bob,nowhere,peerchat/3" + keys + ",online,", "here,1,bob,127.0.0.1:5002,peerchat/3" + keys + ",online,"
                 + std::string(141, 'x'), "here,1,bob,127.0.0.1:5002,peerchat/3" + keys + ",online,a\tb",
                 "gone,0,bob", "gone,1", "gone,1,b b", "snapshot,0,1", "snapshot,1", "snapshot,1,-1", "snapshot,1,01"})
            CPPUNIT_ASSERT_MESSAGE("accepted: " + bad, !Protocol::decode(bad).ok());
        for (const char* bad : {"whois,", "whois,a,b", "typing,alice", "typing,alice,bob,1", "key,bob", "key,bob,short", "key,bo b,-",
                                "contact,ff,1,alice,bob,befriend,hi", "contact,ff,0,alice,bob,request,hi",
                                "contact,FF,1,alice,bob,request,hi", "contact,ff,1,alice,bob,accept,a note",
                                "contact,ff,1,alice,bob,request"}) {
            CPPUNIT_ASSERT_MESSAGE(std::string("accepted: ") + bad, !Protocol::decode(bad).ok());
        }
        CPPUNIT_ASSERT(Protocol::decode("contact,ff,1,alice,bob,request," + std::string(256, 'x')).ok());
        CPPUNIT_ASSERT(!Protocol::decode("contact,ff,1,alice,bob,request," + std::string(257, 'x')).ok());
    }

    void testEncodeAndRefuseCaps()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("caps,alice,bob,bundle,0"), Protocol::encode(Caps{"alice", "bob", "bundle", false}));
        CPPUNIT_ASSERT_EQUAL(std::string("caps,bob,alice,-,1"), Protocol::encode(Caps{"bob", "alice", "", true}));
        const Caps caps = std::get<Caps>(decodeOk("caps,bob,alice,typing.bundle.later,1"));
        CPPUNIT_ASSERT(caps.answer);
        CPPUNIT_ASSERT(caps.offers(kBundleFeature));
        CPPUNIT_ASSERT(caps.offers("typing"));
        CPPUNIT_ASSERT(!caps.offers("bund"));
        CPPUNIT_ASSERT(!caps.offers(""));
        CPPUNIT_ASSERT(!std::get<Caps>(decodeOk("caps,bob,alice,-,0")).offers(kBundleFeature));
        CPPUNIT_ASSERT(!std::get<Caps>(decodeOk("caps,bob,alice,bundles,0")).offers(kBundleFeature));
        for (const std::string& text : std::vector<std::string>{"caps", "caps,bob,alice,bundle", "caps,bob,alice,bundle,2", "caps,bob,alice,,0",
                                       "caps,bob,alice,Bundle,0", "caps,bob,alice,bundle,0,x", "caps,b b,alice,-,0",
                                       "caps,bob,alice,bundle,", "caps,bob,alice," + std::string(33, 'a') + ",1"})
            assertRefused(text);
    }

    void testDecodeBundlePartByPart()
    {
        const std::string msg = Protocol::encode(Msg{"ff", 1, "12:00:00", "bob", "alice", "one, two"});
        const std::string ack = Protocol::encode(Ack{"bob", "ee", 3, {}});
        const auto one = Protocol::decodeBundle(msg);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), one.size());
        CPPUNIT_ASSERT_EQUAL(std::string("one, two"), std::get<Msg>(one[0].value()).text);
        const auto parts = Protocol::decodeBundle(msg + '\0' + "nonsense" + '\0' + ack + '\0');
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), parts.size());
        CPPUNIT_ASSERT(std::holds_alternative<Msg>(parts[0].value()));
        CPPUNIT_ASSERT(!parts[1].ok());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), std::get<Ack>(parts[2].value()).seq);
        CPPUNIT_ASSERT(!parts[3].ok());  // an empty part is no message
        // A peerd from before bundles reads one as a single msg whose text holds a NUL, and drops it.
        CPPUNIT_ASSERT(!Protocol::decode(msg + '\0' + msg).ok());
    }

    void testAppendEncodedWritesAfterWhatIsThere()
    {
        const Msg msg{"ff", 18446744073709551615ULL, "12:00:00", "bob", "alice", "one, two"};
        const Ack ack{"bob", "ee", 3, {{5, 7}}};
        std::string bundle = "start";
        Protocol::appendEncoded(bundle, msg);
        bundle += Protocol::kBundleSeparator;
        Protocol::appendEncoded(bundle, ack);
        CPPUNIT_ASSERT_EQUAL("start" + Protocol::encode(msg) + '\0' + Protocol::encode(ack), bundle);
        CPPUNIT_ASSERT_EQUAL(std::string("msg,ff,18446744073709551615,12:00:00,bob,alice,one, two"), Protocol::encode(msg));
    }

    void testRoundTripBareRelogin()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("relogin"), Protocol::encode(Relogin{}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(7), Protocol::encode(Relogin{}).size());
        CPPUNIT_ASSERT(std::get<Relogin>(decodeOk("relogin")).name.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("relogin,alice"), Protocol::encode(Relogin{"alice"}));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), std::get<Relogin>(decodeOk("relogin,alice")).name);
        const auto utf16 = Protocol::decodeDatagram(asciiUtf16le("relogin"));
        CPPUNIT_ASSERT_MESSAGE(utf16.error(), utf16.ok());
        CPPUNIT_ASSERT(std::get<Relogin>(utf16->message).name.empty());
        for (const std::string text : {"relogin,", "relogin ", " relogin", "Relogin", "relogin\n", "relogi"})
            assertRefused(text);
    }

    void testReadUnknownFullReasonAsUnstated()
    {
        // A reason a later indexd adds still says the line was not kept.
        const Message full = decodeOk("full,bob,ff,3,quota-of-the-future");
        CPPUNIT_ASSERT(std::get<Full>(full).reason == FullReason::Unstated);
        CPPUNIT_ASSERT_EQUAL(std::string("full,bob,ff,3"), Protocol::encode(full));
        CPPUNIT_ASSERT(std::get<Full>(decodeOk("full,bob,ff,3,disk")).reason == FullReason::Disk);
    }

    void testRefuseMalformedHandshake()
    {
        const std::string k = Base64::encode(bytes<32>(1)), sig = Base64::encode(bytes<64>(2)),
                          n = Base64::encode(bytes<24>(3)), e = Base64::encode(bytes<8>(4));
        const std::string keys3 = k + "," + k + "," + sig;
        // The good ones, so the bad ones below fail for the reason shown.
        decodeOk("hello,alice,peerchat/2,0");
        decodeOk("hello,alice,peerchat/2," + n + ",0");
        const std::string signedPart = "," + e + "," + k + "," + sig;
        decodeOk("challenge,alice,127.0.0.1:5001," + n + "," + n + signedPart);
        decodeOk("refuse,alice,taken," + n);
        decodeOk("auth,alice,127.0.0.1:5001,peerchat/2," + keys3 + "," + n + "," + sig);
        decodeOk("welcome,alice," + e + "," + k + "," + k + "," + sig);
        for (const std::string& text : std::vector<std::string>{
                 "hello,alice,peerchat/2", "hello,alice", "hello,alice,peerchat/2,0,0", "hello,alice,peerchat/2,1",
                 "hello,alice,peerchat/2,00x", "hello,alice,Peerchat/2,0", "hello,,peerchat/2,0",
                 "hello,alice,peerchat/2," + std::string(513, '0'),
                 "challenge,alice,127.0.0.1:5001", "challenge,alice,127.0.0.1:5001," + n,
                 "challenge,alice,127.0.0.1:5001," + n + "," + n,
                 "challenge,alice,127.0.0.1:5001," + n + "," + n + "," + e + "," + k,
                 "challenge,alice,127.0.0.1:5001," + n + "," + n + signedPart + ",x",
                 "challenge,alice,127.0.0.1:5001," + n + "," + n + "," + n + "," + k + "," + sig,
                 "challenge,alice,127.0.0.1:5001," + n + "," + n + "," + e + "," + n + "," + sig,
                 "challenge,alice,127.0.0.1:5001," + n + "," + n + "," + e + "," + k + "," + k,
                 "challenge,alice,127.0.0.1:5001," + n + "," + k + signedPart, "hello,alice,peerchat/2," + n + "," + n,
                 "hello,alice,peerchat/2," + k + ",0", "hello,alice,peerchat/2," + n + ",0,0",
                 "refuse,alice,taken," + k, "refuse,alice,taken," + n + "," + n, "refuse,alice,taken,",
                 "challenge,alice,127.0.0.1:5001," + n.substr(1) + "," + n + signedPart,
                 "challenge,alice,127.0.0.1:5001," + n + "A," + n + signedPart,
                 "challenge,alice,127.0.0.1:5001," + n + "==," + n + signedPart,
                 "challenge,alice,127.0.0.1:5001," + k + "," + n + signedPart,
                 "challenge,alice,localhost:5001," + n + "," + n + signedPart,
                 "challenge,a b,127.0.0.1:5001," + n + "," + n + signedPart,
                 "auth,alice,127.0.0.1:5001,peerchat/2," + keys3 + "," + n,
                 "auth,alice,127.0.0.1:5001,peerchat/2,-,-,-," + n + "," + sig,
                 "auth,alice,127.0.0.1:5001,peerchat/2," + k + "," + k + "," + k + "," + n + "," + sig,
                 "auth,alice,127.0.0.1:5001,peerchat/2," + keys3 + "," + n + "," + k,
                 "auth,alice,127.0.0.1:5001,peerchat/2," + keys3 + "," + sig + "," + sig,
                 "auth,alice,127.0.0.1:5001,peerchat/2," + keys3 + "," + n + "," + sig + ",x",
                 "auth,alice,127.0.0.1:5001,peerchat/2," + k + "+," + k + "," + sig + "," + n + "," + sig,
                 "welcome,alice," + e + "," + k + "," + k,
                 "welcome,alice,5003," + e + "," + k + "," + k + "," + sig,
                 "welcome,alice," + n + "," + k + "," + k + "," + sig,
                 "welcome,alice," + e + "," + k + "," + k + "," + sig.substr(0, 85)})
            assertRefused(text);
    }

    void testRefuseRetiredSignedPresence()
    {
        // indexd once announced peerchat users in these signed forms; they
        // are spoken no more (presence goes sealed: here, gone, snapshot).
        const std::string k = Base64::encode(bytes<32>(1)), sig = Base64::encode(bytes<64>(2));
        for (const std::string& text : std::vector<std::string>{
                 "login,bob,127.0.0.1:6000,peerchat/2,44," + k + "," + k + "," + sig + "," + sig,
                 "login,bob,127.0.0.1:6000,seed,45,-,-,-," + sig, "logout,bob,127.0.0.1:6000,46," + sig})
            assertRefused(text);
    }

    void testRefuseMalformedSealedVerbs()
    {
        const std::string id = Base64::encode(bytes<8>(1)), k = Base64::encode(bytes<32>(1));
        decodeOk("seal," + id + "," + id + ",1,YWJj");
        decodeOk("post,bob,ff,1,YWJj");
        decodeOk("mail,alice," + k + ",ff,1,YWJj");
        for (const std::string& text : std::vector<std::string>{
                 "seal," + id + "," + id + ",1", "seal," + id + "," + id + ",1,", "seal," + id + "," + id + ",0,YWJj",
                 "seal," + id + "," + id + ",18446744073709551616,YWJj", "seal," + id + "," + id + ",01,YWJj",
                 "seal," + id + "," + id + ",1,YWJj=", "seal," + id + "," + id + ",1,YW Jj",
                 "seal," + id + "," + id + ",1,YWJk+", "seal," + id + "," + id + ",1,YWJj,x",
                 "seal," + k + "," + id + ",1,YWJj", "seal," + id + ",AAAA,1,YWJj", "seal,-," + id + ",1,YWJj",
                 "post,bob,ff,1", "post,bob,ff,1,", "post,bob,FF,1,YWJj", "post,bob,ff,0,YWJj", "post,,ff,1,YWJj",
                 "post,bob,ff,1,YWJj,x", "post,bob,ff,1,Y",
                 "mail,alice,ff,1,YWJj", "mail,alice,-,ff,1,YWJj", "mail,alice," + id + ",ff,1,YWJj",
                 "mail,alice," + k + ",ff,1,", "mail,alice," + k + ",ff,x,YWJj", "mail,a;b," + k + ",ff,1,YWJj"})
            assertRefused(text);
    }

    void testRefuseRetiredStore()
    {
        // peerchat/2 posts a sealed box instead; plaintext store is gone.
        const auto parsed = Protocol::decode("store,bob,ff,1,12:00:00,alice,hi");
        CPPUNIT_ASSERT(!parsed.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("unknown verb 'store'"), parsed.error());
    }

    void testPadHelloBeyondAnyChallenge()
    {
        // The longest challenge: longest name, longest IPv6 endpoint.
        const Challenge longest{std::string(32, 'a'),
                                endpoint("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
                                bytes<24>(1),
                                bytes<24>(2),
                                bytes<8>(3),
                                bytes<32>(4),
                                bytes<64>(5)};
        const std::size_t challenge = Protocol::encode(longest).size();
        CPPUNIT_ASSERT_MESSAGE(std::to_string(challenge), challenge < Protocol::kMinHelloBytes);
        // The answers indexd gives a hello or an auth are never longer than the least hello.
        CPPUNIT_ASSERT(Protocol::encode(Refuse{std::string(32, 'a'), "version", bytes<24>(3)}).size()
                       < Protocol::kMinHelloBytes);
        // The shortest hello padded to the least length still parses, as does the most padding.
        const std::size_t bare = Protocol::encode(Hello{"a", "peerchat/3", 0, bytes<24>(6)}).size();
        const Message padded = Hello{"a", "peerchat/3", Protocol::kMinHelloBytes - bare, bytes<24>(6)};
        CPPUNIT_ASSERT_EQUAL(Protocol::kMinHelloBytes, Protocol::encode(padded).size());
        CPPUNIT_ASSERT_EQUAL(describe(padded), describe(decodeOk(Protocol::encode(padded))));
        decodeOk(Protocol::encode(Hello{std::string(32, 'a'), "peerchat/3", 512, bytes<24>(7)}));
    }

    void testFitSealedPostOfLongestText()
    {
        // The longest chat line, boxed by the sender for the offline
        // recipient, posted sealed to indexd; and the mail indexd seals to the
        // recipient with it (a mail is the larger: it names FROM's key).
        const SigningKey alice = SigningKey::generate(), bob = SigningKey::generate();
        const KxKeyPair aliceKx = KxKeyPair::generate(), indexKx = KxKeyPair::generate();
        const SigningKey index = SigningKey::generate();
        auto aliceToIndex = SessionCipher::between(aliceKx, alice, index.publicKey(), indexKx.publicKey());
        auto indexFromAlice = SessionCipher::between(indexKx, index, alice.publicKey(), aliceKx.publicKey());
        CPPUNIT_ASSERT(aliceToIndex && indexFromAlice);

        const std::string name(32, 'n');
        const Msg longest{"0123456789abcdef", Protocol::kMaxSequence, std::string(32, 't'), name, name,
                          std::string(Protocol::kMaxTextBytes, 'x')};
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), Protocol::encode(longest));
        const std::string post = Protocol::encode(Post{name, longest.stream, longest.seq, box});
        const std::string mail = Protocol::encode(Mail{name, alice.publicKey(), longest.stream, longest.seq, box});
        std::size_t largest = 0;
        for (const std::string& text : {post, mail}) {
            Seal sealed = aliceToIndex->seal(text);
            const auto onWire = Protocol::decodeDatagram(Protocol::encode(sealed));
            CPPUNIT_ASSERT_MESSAGE(onWire.error(), onWire.ok());
            const auto opened = indexFromAlice->open(std::get<Seal>(onWire->message));
            CPPUNIT_ASSERT_MESSAGE(opened.error(), opened.ok() && *opened == text);
            // The widest counter the field can hold.
            sealed.counter = UINT64_MAX;
            const std::string datagram = Protocol::encodeDatagram(sealed, TextEncoding::Utf8);
            CPPUNIT_ASSERT_MESSAGE(std::to_string(datagram.size()) + " bytes", datagram.size() <= Protocol::kMaxDatagramBytes);
            CPPUNIT_ASSERT_EQUAL(describe(sealed), describe(Protocol::decodeDatagram(datagram)->message));
            largest = std::max(largest, datagram.size());
        }
        // The figure docs/PROTOCOL.md gives for the largest sealed datagram.
        CPPUNIT_ASSERT_EQUAL(std::size_t(7961), largest);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProtocolTest);
