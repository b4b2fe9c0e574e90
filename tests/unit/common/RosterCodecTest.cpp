#include "ByteFuzzer.h"
#include "RosterCodec.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using namespace peerchat;

namespace {

const RosterFormat kFormats[] = {RosterFormat::SeedText, RosterFormat::DotNet};

std::string formatName(RosterFormat format)
{
    switch (format) {
    case RosterFormat::SeedText: return "seed text";
    case RosterFormat::DotNet: return ".NET";
    }
    return "?";
}

RosterEntry entry(const std::string& name, const std::string& endpoint)
{
    return RosterEntry{name, *Endpoint::parse(endpoint)};
}

// Every field of every entry, length-prefixed so that different rosters never print alike.
std::string describe(const std::vector<RosterEntry>& entries)
{
    std::string out;
    for (const auto& e : entries) {
        for (const std::string& f : {e.name, e.endpoint.toString()}) out += "[" + std::to_string(f.size()) + ":" + f + "]";
        out += ";";
    }
    return out;
}

std::vector<RosterEntry> decodeOk(const std::string& stream, RosterFormat format)
{
    const auto parsed = RosterCodec::decode(stream, format);
    CPPUNIT_ASSERT_MESSAGE(formatName(format) + " refused '" + stream + "': " + parsed.error(), parsed.ok());
    return *parsed;
}

void assertRefused(const std::string& stream, RosterFormat format)
{
    const auto parsed = RosterCodec::decode(stream, format);
    CPPUNIT_ASSERT_MESSAGE(formatName(format) + " accepted '" + stream + "'", !parsed.ok());
    CPPUNIT_ASSERT_MESSAGE(formatName(format) + " gave no reason for '" + stream + "'", !parsed.error().empty());
}

// The .NET framing of text: its length as a 7-bit varint, then the text.
std::string dotNetFrame(const std::string& text)
{
    std::string out;
    std::size_t length = text.size();
    do {
        unsigned char byte = length & 0x7F;
        length >>= 7;
        if (length != 0) byte |= 0x80;
        out.push_back(static_cast<char>(byte));
    } while (length != 0);
    return out + text;
}

// Refused as seed text, and as the same text in .NET framing.
void assertTextRefused(const std::string& text)
{
    assertRefused(text, RosterFormat::SeedText);
    assertRefused(dotNetFrame(text), RosterFormat::DotNet);
}

const std::vector<RosterEntry>& twoUsers()
{
    static const std::vector<RosterEntry> users = {entry("alice", "127.0.0.1:5001"), entry("天涯", "[::1]:5002")};
    return users;
}

} // namespace

class RosterCodecTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RosterCodecTest);
    CPPUNIT_TEST(testEncodeEmptyRosterAsEnd);
    CPPUNIT_TEST(testEncodeSeedTextExactly);
    CPPUNIT_TEST(testEncodeShortDotNetRosterExactly);
    CPPUNIT_TEST(testEncodeLongDotNetRosterWithTwoByteLength);
    CPPUNIT_TEST(testRoundTripAllFormats);
    CPPUNIT_TEST(testRefuseMissingEnd);
    CPPUNIT_TEST(testRefuseTruncatedStreams);
    CPPUNIT_TEST(testRefuseBadEntries);
    CPPUNIT_TEST(testRefuseDuplicateNames);
    CPPUNIT_TEST(testRefuseExtraFieldInSeedFormats);
    CPPUNIT_TEST(testRefuseVarintLengthMismatch);
    CPPUNIT_TEST(testRefuseOversizeStream);
    CPPUNIT_TEST(testSurviveRandomStreams);
    CPPUNIT_TEST_SUITE_END();

public:
    void testEncodeEmptyRosterAsEnd()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("end"), RosterCodec::encode({}, RosterFormat::SeedText));
        CPPUNIT_ASSERT_EQUAL(std::string("\x03" "end"), RosterCodec::encode({}, RosterFormat::DotNet));
        for (RosterFormat format : kFormats)
            CPPUNIT_ASSERT(decodeOk(RosterCodec::encode({}, format), format).empty());
    }

    void testEncodeSeedTextExactly()
    {
        const std::string text = "alice,127.0.0.1:5001;天涯,[::1]:5002;end";
        CPPUNIT_ASSERT_EQUAL(text, RosterCodec::encode(twoUsers(), RosterFormat::SeedText));
        CPPUNIT_ASSERT_EQUAL(describe(twoUsers()), describe(decodeOk(text, RosterFormat::SeedText)));
    }

    void testEncodeShortDotNetRosterExactly()
    {
        const std::string bytes = "\x2A" "alice,127.0.0.1:5001;天涯,[::1]:5002;end"; // 42 bytes of text
        CPPUNIT_ASSERT_EQUAL(bytes, RosterCodec::encode(twoUsers(), RosterFormat::DotNet));
        CPPUNIT_ASSERT_EQUAL(describe(twoUsers()), describe(decodeOk(bytes, RosterFormat::DotNet)));
    }

    void testEncodeLongDotNetRosterWithTwoByteLength()
    {
        const std::vector<RosterEntry> users = {
            entry("alice", "127.0.0.1:5001"),  entry("bob", "127.0.0.1:5002"),
            entry("carol", "127.0.0.1:5003"),  entry("天涯", "[::1]:5004"),
            entry("你好世界", "[2001:db8::1]:5005"), entry("dave", "192.168.100.200:65535"),
        };
        const std::string text = "alice,127.0.0.1:5001;bob,127.0.0.1:5002;carol,127.0.0.1:5003;天涯,[::1]:5004;"
                                 "你好世界,[2001:db8::1]:5005;dave,192.168.100.200:65535;end";
        CPPUNIT_ASSERT_EQUAL(std::size_t(141), text.size());
        // 141 = 0b1'0001101: low seven bits with the high bit set, then 1.
        const std::string bytes = "\x8D\x01" + text;
        CPPUNIT_ASSERT_EQUAL(bytes, RosterCodec::encode(users, RosterFormat::DotNet));
        CPPUNIT_ASSERT_EQUAL(describe(users), describe(decodeOk(bytes, RosterFormat::DotNet)));
    }

    void testRoundTripAllFormats()
    {
        std::vector<RosterEntry> users = {entry("天涯", "[::1]:5002"), entry("alice", "127.0.0.1:5001"),
                                          entry("bob", "10.1.2.3:65535"), entry(std::string(32, 'z'), "[2001:db8::7]:1")};
        for (int i = 0; i < 200; ++i)
            users.push_back(entry("user" + std::to_string(i), "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":6000"));
        for (RosterFormat format : kFormats) {
            const auto decoded = decodeOk(RosterCodec::encode(users, format), format);
            CPPUNIT_ASSERT_EQUAL(describe(users), describe(decoded));
        }
    }

    void testRefuseMissingEnd()
    {
        for (const std::string text : {"", "alice,127.0.0.1:5001;", "alice,127.0.0.1:5001", "en", "END", "end;", "end\n",
                                       "end end", "alice,127.0.0.1:5001;en", "alice,127.0.0.1:5001;endx"})
            assertTextRefused(text);
    }

    void testRefuseTruncatedStreams()
    {
        for (RosterFormat format : kFormats) {
            const std::string full = RosterCodec::encode(twoUsers(), format);
            for (std::size_t n = 0; n < full.size(); ++n) {
                const auto parsed = RosterCodec::decode(full.substr(0, n), format);
                CPPUNIT_ASSERT_MESSAGE(formatName(format) + " accepted the first " + std::to_string(n) + " bytes", !parsed.ok());
            }
        }
    }

    void testRefuseBadEntries()
    {
        for (const std::string text : {";end", "alice;end", ",127.0.0.1:5001;end", "a b,127.0.0.1:5001;end",
                                       "alice,localhost:5001;end", "alice,127.0.0.1:0;end", "alice,127.0.0.1;end",
                                       "alice,;end", "alice,::1:5001;end", "\xE5\xA4,127.0.0.1:5001;end",
                                       "alice,127.0.0.1:5001;;end", "alice,127.0.0.1:5001\xFF;end"})
            assertTextRefused(text);
        assertTextRefused(std::string(33, 'a') + ",127.0.0.1:5001;end");
    }

    void testRefuseDuplicateNames()
    {
        assertTextRefused("alice,127.0.0.1:5001;alice,127.0.0.1:5002;end");
        assertTextRefused("天涯,127.0.0.1:5001;bob,127.0.0.1:5003;天涯,[::1]:5002;end");
        // The same endpoint under two names is a matter for indexd, not the codec.
        decodeOk("alice,127.0.0.1:5001;bob,127.0.0.1:5001;end", RosterFormat::SeedText);
    }

    void testRefuseExtraFieldInSeedFormats()
    {
        assertTextRefused("alice,127.0.0.1:5001,peerchat/2;end");
        assertTextRefused("alice,127.0.0.1:5001,;end");
        assertTextRefused("alice,127.0.0.1:5001,peerchat/3,-,-,-;end");
    }

    void testRefuseVarintLengthMismatch()
    {
        const std::string text = "alice,127.0.0.1:5001;end";
        CPPUNIT_ASSERT_EQUAL(std::size_t(24), text.size());
        decodeOk("\x18" + text, RosterFormat::DotNet);
        assertRefused("\x17" + text, RosterFormat::DotNet);  // says one byte less
        assertRefused("\x19" + text, RosterFormat::DotNet);  // says one byte more
        assertRefused("\x98\x01" + text, RosterFormat::DotNet); // 152
        assertRefused(text, RosterFormat::DotNet);            // no length at all: 'a' is 97
        assertRefused("", RosterFormat::DotNet);
        assertRefused("\x80", RosterFormat::DotNet);          // length cut off
        assertRefused("\xFF\xFF\xFF\xFF\xFF\xFF\x01", RosterFormat::DotNet);
        assertRefused("\x80\x80\x80\x80\x80\x00" + text, RosterFormat::DotNet);
    }

    void testRefuseOversizeStream()
    {
        // Leading spaces before an entry are skipped, so this stays a valid roster at any length.
        auto padded = [](std::size_t spaces) { return "alice,127.0.0.1:5001;" + std::string(spaces, ' ') + "end"; };
        decodeOk(padded(1000), RosterFormat::SeedText);
        const std::string oversize = padded(RosterCodec::kMaxStreamBytes);
        CPPUNIT_ASSERT(oversize.size() > RosterCodec::kMaxStreamBytes);
        assertRefused(oversize, RosterFormat::SeedText);
        assertRefused(dotNetFrame(oversize), RosterFormat::DotNet);
    }

    void testSurviveRandomStreams()
    {
        std::vector<std::string> corpus;
        const std::vector<RosterEntry> users = {entry("alice", "127.0.0.1:5001"), entry("天涯", "[::1]:5002"),
                                                entry("bob", "10.0.0.2:6000")};
        for (RosterFormat format : kFormats) {
            corpus.push_back(RosterCodec::encode(users, format));
            corpus.push_back(RosterCodec::encode({users[0]}, format));
            corpus.push_back(RosterCodec::encode({}, format));
        }
        test::ByteFuzzer fuzzer(424242, {",", ";", "end", ";end", ":", "[", "]", "::1", "127.0.0.1", ":5001", "alice",
                                         "bob", "天涯", " ", std::string(1, '\0'), "\x80", "\xFF"});
        std::size_t accepted = 0;
        for (int i = 0; i < 20000; ++i) {
            const std::string stream = i % 2 == 0 ? fuzzer.randomBytes(16) : fuzzer.mutate(corpus[fuzzer.below(corpus.size())]);
            for (RosterFormat format : kFormats) {
                const auto parsed = RosterCodec::decode(stream, format);
                if (!parsed.ok()) {
                    CPPUNIT_ASSERT_MESSAGE("refusal without a reason", !parsed.error().empty());
                    continue;
                }
                ++accepted;
                const auto again = RosterCodec::decode(RosterCodec::encode(*parsed, format), format);
                CPPUNIT_ASSERT_MESSAGE(formatName(format) + " re-encoding refused: " + again.error(), again.ok());
                CPPUNIT_ASSERT_EQUAL(describe(*parsed), describe(*again));
            }
        }
        CPPUNIT_ASSERT_MESSAGE(std::to_string(accepted) + " accepted", accepted > 500);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterCodecTest);
