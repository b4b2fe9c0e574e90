#include "ByteFuzzer.h"
#include "StunMessage.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::Endpoint;
using peerchat::StunMessage;
using Attribute = StunMessage::Attribute;

namespace {

std::string bytes(std::initializer_list<unsigned> values)
{
    std::string out;
    for (unsigned v : values) out.push_back(static_cast<char>(v));
    return out;
}

// RFC 5769 2.1: a Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED,
// USERNAME, MESSAGE-INTEGRITY (short-term password VOkJxbRl1RmTxUk/WvJxBt)
// and FINGERPRINT; padding is spaces, which a decoder must not care about.
const std::string kRfc5769Request = bytes({
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf});

// RFC 5769 2.2: its IPv4 answer, XOR-MAPPED-ADDRESS 192.0.2.1:32853.
const std::string kRfc5769Response = bytes({
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96});

const std::string kShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";

std::string hex(const std::string& raw)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0xF]);
    }
    return out;
}

} // namespace

class StunMessageTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(StunMessageTest);
    CPPUNIT_TEST(testDecodeRfc5769Request);
    CPPUNIT_TEST(testDecodeRfc5769Response);
    CPPUNIT_TEST(testRefuseWrongFingerprint);
    CPPUNIT_TEST(testRoundTripWithIntegrityAndFingerprint);
    CPPUNIT_TEST(testRoundTripIpv6Address);
    CPPUNIT_TEST(testIntegrityCoversEveryByteBeforeIt);
    CPPUNIT_TEST(testLongTermKeyIsMd5OfUserRealmPassword);
    CPPUNIT_TEST(testErrorCode);
    CPPUNIT_TEST(testRefuseMalformedHeaders);
    CPPUNIT_TEST(testRefuseMalformedAttributes);
    CPPUNIT_TEST(testMutatedMessagesNeverThrow);
    CPPUNIT_TEST_SUITE_END();

public:
    void testDecodeRfc5769Request()
    {
        const auto message = StunMessage::decode(kRfc5769Request);
        CPPUNIT_ASSERT_MESSAGE(message.error(), message.ok());
        CPPUNIT_ASSERT(message->method() == StunMessage::Method::Binding);
        CPPUNIT_ASSERT(message->kind() == StunMessage::Kind::Request);
        CPPUNIT_ASSERT_EQUAL(std::string("evtj:h6vY"), message->attribute(Attribute::Username).value_or(""));
        CPPUNIT_ASSERT(message->hasValidIntegrity(kShortTermPassword));
        CPPUNIT_ASSERT(!message->hasValidIntegrity("VOkJxbRl1RmTxUk/WvJxBu"));
    }

    void testDecodeRfc5769Response()
    {
        const auto message = StunMessage::decode(kRfc5769Response);
        CPPUNIT_ASSERT_MESSAGE(message.error(), message.ok());
        CPPUNIT_ASSERT(message->kind() == StunMessage::Kind::Success);
        const auto mapped = message->xorAddress(Attribute::XorMappedAddress);
        CPPUNIT_ASSERT(mapped);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1:32853"), mapped->toString());
        CPPUNIT_ASSERT(message->hasValidIntegrity(kShortTermPassword));
    }

    void testRefuseWrongFingerprint()
    {
        std::string changed = kRfc5769Request;
        changed.back() ^= 1;
        CPPUNIT_ASSERT_EQUAL(std::string("FINGERPRINT does not match"), StunMessage::decode(changed).error());
        changed = kRfc5769Request;
        changed[30] ^= 1; // inside SOFTWARE
        CPPUNIT_ASSERT(!StunMessage::decode(changed).ok());
    }

    void testRoundTripWithIntegrityAndFingerprint()
    {
        StunMessage message = StunMessage::make(StunMessage::Method::ChannelBind, StunMessage::Kind::Request);
        message.addChannelNumber(0x4001);
        message.addXorAddress(Attribute::XorPeerAddress, *Endpoint::parse("203.0.113.7:40000"));
        message.addString(Attribute::Username, "1765000000:alice");
        message.addUint32(Attribute::Lifetime, 600);
        const std::string key = StunMessage::longTermKey("1765000000:alice", "peerchat", "pw");
        const std::string wire = message.encode(&key, true);
        CPPUNIT_ASSERT_EQUAL(std::size_t{0}, wire.size() % 4);

        const auto back = StunMessage::decode(wire);
        CPPUNIT_ASSERT_MESSAGE(back.error(), back.ok());
        CPPUNIT_ASSERT(back->method() == StunMessage::Method::ChannelBind);
        CPPUNIT_ASSERT(back->kind() == StunMessage::Kind::Request);
        CPPUNIT_ASSERT(back->transaction() == message.transaction());
        CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.7:40000"), back->xorAddress(Attribute::XorPeerAddress)->toString());
        CPPUNIT_ASSERT_EQUAL(std::string("1765000000:alice"), *back->attribute(Attribute::Username));
        CPPUNIT_ASSERT_EQUAL(600u, *back->uint32(Attribute::Lifetime));
        CPPUNIT_ASSERT_EQUAL(std::string("\x40\x01\x00\x00", 4), *back->attribute(Attribute::ChannelNumber));
        CPPUNIT_ASSERT(back->hasValidIntegrity(key));
        CPPUNIT_ASSERT(!back->hasValidIntegrity(StunMessage::longTermKey("1765000000:alice", "peerchat", "px")));
    }

    void testRoundTripIpv6Address()
    {
        StunMessage message = StunMessage::make(StunMessage::Method::Data, StunMessage::Kind::Indication);
        message.addXorAddress(Attribute::XorPeerAddress, *Endpoint::parse("[2001:db8::1234]:5001"));
        const auto back = StunMessage::decode(message.encode());
        CPPUNIT_ASSERT_MESSAGE(back.error(), back.ok());
        CPPUNIT_ASSERT(back->kind() == StunMessage::Kind::Indication);
        CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::1234]:5001"), back->xorAddress(Attribute::XorPeerAddress)->toString());
        CPPUNIT_ASSERT(!back->hasIntegrity());
    }

    void testIntegrityCoversEveryByteBeforeIt()
    {
        StunMessage message = StunMessage::make(StunMessage::Method::Allocate, StunMessage::Kind::Success);
        message.addUint32(Attribute::Lifetime, 600);
        const std::string key = "k";
        const std::string wire = message.encode(&key);
        // The transaction id, then LIFETIME's value: the bytes a change keeps well-formed.
        for (std::size_t i = 8; i < StunMessage::kHeaderBytes + 8; ++i) {
            if (i >= StunMessage::kHeaderBytes && i < StunMessage::kHeaderBytes + 4) continue;
            std::string changed = wire;
            changed[i] ^= 0x40;
            const auto decoded = StunMessage::decode(changed);
            CPPUNIT_ASSERT(decoded.ok());
            CPPUNIT_ASSERT_MESSAGE("byte " + std::to_string(i), !decoded->hasValidIntegrity(key));
        }
        CPPUNIT_ASSERT(StunMessage::decode(wire)->hasValidIntegrity(key));
    }

    void testLongTermKeyIsMd5OfUserRealmPassword()
    {
        // printf %s user:realm:pass | md5sum
        CPPUNIT_ASSERT_EQUAL(std::string("8493fbc53ba582fb4c044c456bdc40eb"),
                             hex(StunMessage::longTermKey("user", "realm", "pass")));
    }

    void testErrorCode()
    {
        StunMessage message = StunMessage::make(StunMessage::Method::Allocate, StunMessage::Kind::Error);
        message.addAttribute(Attribute::ErrorCode, bytes({0, 0, 4, 38}) + "Stale Nonce");
        const auto back = StunMessage::decode(message.encode());
        CPPUNIT_ASSERT(back->kind() == StunMessage::Kind::Error);
        CPPUNIT_ASSERT_EQUAL(438, back->errorCode().value_or(0));
        CPPUNIT_ASSERT_EQUAL(std::string("Stale Nonce"), back->errorReason());

        StunMessage bogus = StunMessage::make(StunMessage::Method::Allocate, StunMessage::Kind::Error);
        bogus.addAttribute(Attribute::ErrorCode, bytes({0, 0, 9, 0}));
        CPPUNIT_ASSERT(!StunMessage::decode(bogus.encode())->errorCode());
    }

    void testRefuseMalformedHeaders()
    {
        const std::string good = StunMessage::make(StunMessage::Method::Binding, StunMessage::Kind::Request).encode();
        CPPUNIT_ASSERT(StunMessage::decode(good).ok());
        CPPUNIT_ASSERT(!StunMessage::decode(good.substr(0, 19)).ok());
        std::string topBits = good;
        topBits[0] = '\x40';
        CPPUNIT_ASSERT(!StunMessage::decode(topBits).ok());
        std::string cookie = good;
        cookie[4] = 0;
        CPPUNIT_ASSERT_EQUAL(std::string("no magic cookie"), StunMessage::decode(cookie).error());
        CPPUNIT_ASSERT(!StunMessage::decode(good + std::string(4, '\0')).ok());
        std::string odd = good + std::string(2, '\0');
        odd[3] = 2;
        CPPUNIT_ASSERT(!StunMessage::decode(odd).ok());
    }

    void testRefuseMalformedAttributes()
    {
        StunMessage message = StunMessage::make(StunMessage::Method::Binding, StunMessage::Kind::Success);
        message.addString(Attribute::Software, "abcde");
        std::string wire = message.encode();
        wire[StunMessage::kHeaderBytes + 3] = 9; // SOFTWARE's length now runs past the end
        CPPUNIT_ASSERT_EQUAL(std::string("an attribute runs past the end"), StunMessage::decode(wire).error());

        const std::string key = "k";
        StunMessage signedThenMore = StunMessage::make(StunMessage::Method::Binding, StunMessage::Kind::Success);
        const std::string signedWire = signedThenMore.encode(&key);
        std::string extended = signedWire + bytes({0x80, 0x22, 0, 0});
        extended[3] = static_cast<char>(extended.size() - StunMessage::kHeaderBytes);
        CPPUNIT_ASSERT(!StunMessage::decode(extended).ok());

        StunMessage shortIntegrity = StunMessage::make(StunMessage::Method::Binding, StunMessage::Kind::Success);
        shortIntegrity.addAttribute(Attribute::MessageIntegrity, std::string(16, 'x'));
        CPPUNIT_ASSERT(!StunMessage::decode(shortIntegrity.encode()).ok());
    }

    void testMutatedMessagesNeverThrow()
    {
        peerchat::test::ByteFuzzer fuzzer(7, {kRfc5769Request.substr(0, 20), bytes({0x80, 0x28, 0, 4}),
                                              bytes({0x00, 0x08, 0, 20}), bytes({0, 0x20, 0, 8, 0, 1})});
        for (int i = 0; i < 20000; ++i) {
            const std::string input = i % 2 ? fuzzer.mutate(kRfc5769Response) : fuzzer.randomBytes(12);
            const auto message = StunMessage::decode(input);
            if (!message) continue;
            message->xorAddress(Attribute::XorMappedAddress);
            message->hasValidIntegrity(kShortTermPassword);
            message->errorCode();
            CPPUNIT_ASSERT(StunMessage::decode(message->encode()).ok());
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StunMessageTest);
