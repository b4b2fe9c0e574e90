#include "Base64.h"
#include "ByteFuzzer.h"
#include "RosterCodec.h"
#include "TestKeys.h"

#include <cppunit/extensions/HelperMacros.h>

#include <sodium.h>

#include <string>
#include <vector>

using namespace peerchat;
using test::bytes;
using test::keys;

namespace {

const RosterFormat kFormats[] = {RosterFormat::SeedText, RosterFormat::DotNet, RosterFormat::Peerchat};

std::string formatName(RosterFormat format)
{
    switch (format) {
    case RosterFormat::SeedText: return "seed text";
    case RosterFormat::DotNet: return ".NET";
    case RosterFormat::Peerchat: return "peerchat";
    }
    return "?";
}

// The wire text of keys(first).
std::string keysText(std::uint8_t first)
{
    const PeerKeys k = keys(first);
    return Base64::encode(k.identity) + "," + Base64::encode(k.kx) + "," + Base64::encode(k.kxSig);
}

RosterEntry entry(const std::string& name, const std::string& endpoint, const std::string& dialect = "",
                  std::optional<PeerKeys> keys = std::nullopt)
{
    return RosterEntry{name, *Endpoint::parse(endpoint), dialect, keys};
}

// Every field of every entry, length-prefixed so that different rosters never print alike.
std::string describe(const std::vector<RosterEntry>& entries)
{
    std::string out;
    for (const auto& e : entries) {
        std::vector<std::string> fields{e.name, e.endpoint.toString(), e.dialect};
        if (e.keys) {
            for (const std::string& f : {Base64::encode(e.keys->identity), Base64::encode(e.keys->kx),
                                         Base64::encode(e.keys->kxSig)})
                fields.push_back(f);
        }
        for (const std::string& f : fields) out += "[" + std::to_string(f.size()) + ":" + f + "]";
        out += ";";
    }
    return out;
}

// What the seed and .NET formats carry of entries: no dialects, no keys.
std::vector<RosterEntry> withoutDialects(std::vector<RosterEntry> entries)
{
    for (auto& e : entries) {
        e.dialect.clear();
        e.keys.reset();
    }
    return entries;
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
    static const std::vector<RosterEntry> users = {entry("alice", "127.0.0.1:5001", "peerchat/2", keys(1)),
                                                   entry("天涯", "[::1]:5002", "dotnet")};
    return users;
}

} // namespace

class RosterCodecTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RosterCodecTest);
    CPPUNIT_TEST(testEncodeEmptyRosterAsEnd);
    CPPUNIT_TEST(testCarryTrailerInPeerchatFormat);
    CPPUNIT_TEST(testAppendSignature);
    CPPUNIT_TEST(testRefuseBadTrailer);
    CPPUNIT_TEST(testRefuseBadKeysInPeerchatFormat);
    CPPUNIT_TEST(testRefuseTruncatedSignedStream);
    CPPUNIT_TEST(testEncodeSeedTextExactly);
    CPPUNIT_TEST(testEncodePeerchatFormatExactly);
    CPPUNIT_TEST(testEncodeShortDotNetRosterExactly);
    CPPUNIT_TEST(testEncodeLongDotNetRosterWithTwoByteLength);
    CPPUNIT_TEST(testRoundTripAllFormats);
    CPPUNIT_TEST(testRefuseMissingEnd);
    CPPUNIT_TEST(testRefuseTruncatedStreams);
    CPPUNIT_TEST(testRefuseBadEntries);
    CPPUNIT_TEST(testRefuseDuplicateNames);
    CPPUNIT_TEST(testRefuseMissingDialectInPeerchatFormat);
    CPPUNIT_TEST(testRefuseBadDialectInPeerchatFormat);
    CPPUNIT_TEST(testRefuseExtraFieldInSeedFormats);
    CPPUNIT_TEST(testRefuseVarintLengthMismatch);
    CPPUNIT_TEST(testRefuseOversizeStream);
    CPPUNIT_TEST(testSurviveRandomStreams);
    CPPUNIT_TEST(testEncodeRequestExactlyAndBack);
    CPPUNIT_TEST(testRefuseBadRequests);
    CPPUNIT_TEST(testDigestIsBlake2b256OfSignedPart);
    CPPUNIT_TEST_SUITE_END();

public:
    void testEncodeEmptyRosterAsEnd()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("end"), RosterCodec::encode({}, RosterFormat::SeedText));
        CPPUNIT_ASSERT_EQUAL(std::string("end,0"), RosterCodec::encode({}, RosterFormat::Peerchat));
        CPPUNIT_ASSERT_EQUAL(std::string("\x03" "end"), RosterCodec::encode({}, RosterFormat::DotNet));
        for (RosterFormat format : kFormats)
            CPPUNIT_ASSERT(decodeOk(RosterCodec::encode({}, format), format).empty());
    }

    void testEncodeSeedTextExactly()
    {
        const std::string text = "alice,127.0.0.1:5001;天涯,[::1]:5002;end";
        CPPUNIT_ASSERT_EQUAL(text, RosterCodec::encode(twoUsers(), RosterFormat::SeedText));
        CPPUNIT_ASSERT_EQUAL(describe(withoutDialects(twoUsers())), describe(decodeOk(text, RosterFormat::SeedText)));
    }

    void testEncodePeerchatFormatExactly()
    {
        const std::string text = "alice,127.0.0.1:5001,peerchat/2," + keysText(1) + ";天涯,[::1]:5002,dotnet,-,-,-;end,0";
        CPPUNIT_ASSERT_EQUAL(text, RosterCodec::encode(twoUsers(), RosterFormat::Peerchat));
        CPPUNIT_ASSERT_EQUAL(describe(twoUsers()), describe(decodeOk(text, RosterFormat::Peerchat)));
    }

    void testEncodeShortDotNetRosterExactly()
    {
        const std::string bytes = "\x2A" "alice,127.0.0.1:5001;天涯,[::1]:5002;end"; // 42 bytes of text
        CPPUNIT_ASSERT_EQUAL(bytes, RosterCodec::encode(twoUsers(), RosterFormat::DotNet));
        CPPUNIT_ASSERT_EQUAL(describe(withoutDialects(twoUsers())), describe(decodeOk(bytes, RosterFormat::DotNet)));
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

    void testCarryTrailerInPeerchatFormat()
    {
        const std::vector<RosterEntry> one{entry("alice", "127.0.0.1:5001", "peerchat/2", keys(1))};
        const std::string text = RosterCodec::encode(one, RosterFormat::Peerchat, 17);
        CPPUNIT_ASSERT_EQUAL("alice,127.0.0.1:5001,peerchat/2," + keysText(1) + ";end,17", text);
        RosterTrailer trailer;
        const auto decoded = RosterCodec::decode(text, RosterFormat::Peerchat, &trailer);
        CPPUNIT_ASSERT_MESSAGE(decoded.error(), decoded.ok());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(17), trailer.seq);
        CPPUNIT_ASSERT(!trailer.sig);
        CPPUNIT_ASSERT_EQUAL(text, trailer.signedPart);
        CPPUNIT_ASSERT_EQUAL(describe(one), describe(*decoded));
        // `end` alone and `end,0` are a roster without presence yet.
        for (const std::string bare : {"end", "end,0"}) {
            trailer.seq = 5;
            CPPUNIT_ASSERT(RosterCodec::decode(bare, RosterFormat::Peerchat, &trailer).ok());
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), trailer.seq);
            CPPUNIT_ASSERT_EQUAL(bare, trailer.signedPart);
        }
        // Only the peerchat format carries it.
        CPPUNIT_ASSERT_EQUAL(std::string("end"), RosterCodec::encode({}, RosterFormat::SeedText, 17));
        CPPUNIT_ASSERT(!RosterCodec::decode("end,5", RosterFormat::SeedText).ok());
    }

    void testAppendSignature()
    {
        const Signature sig = bytes<64>(100);
        const std::string signedPart = RosterCodec::encode(twoUsers(), RosterFormat::Peerchat, 9);
        const std::string stream = RosterCodec::withSignature(signedPart, sig);
        CPPUNIT_ASSERT_EQUAL(signedPart + "," + Base64::encode(sig), stream);
        RosterTrailer trailer;
        const auto decoded = RosterCodec::decode(stream, RosterFormat::Peerchat, &trailer);
        CPPUNIT_ASSERT_MESSAGE(decoded.error(), decoded.ok());
        CPPUNIT_ASSERT_EQUAL(describe(twoUsers()), describe(*decoded));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(9), trailer.seq);
        CPPUNIT_ASSERT(trailer.sig && *trailer.sig == sig);
        // What the signature covers is exactly what indexd signed.
        CPPUNIT_ASSERT_EQUAL(signedPart, trailer.signedPart);
        // Spaces a writer put before an entry are part of what it signed.
        const std::string spaced = RosterCodec::withSignature("  " + signedPart, sig);
        CPPUNIT_ASSERT(RosterCodec::decode(spaced, RosterFormat::Peerchat, &trailer).ok());
        CPPUNIT_ASSERT_EQUAL("  " + signedPart, trailer.signedPart);
        const std::string empty = RosterCodec::withSignature(RosterCodec::encode({}, RosterFormat::Peerchat), sig);
        CPPUNIT_ASSERT(RosterCodec::decode(empty, RosterFormat::Peerchat, &trailer).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("end,0"), trailer.signedPart);
        CPPUNIT_ASSERT(trailer.sig && *trailer.sig == sig);
    }

    void testRefuseBadTrailer()
    {
        const std::string sig = Base64::encode(bytes<64>(1));
        for (const std::string& bad : std::vector<std::string>{
                 "end,", "end,00", "end,07", "end,x", "end,1,2", "end,9223372036854775808", "end,-1", "end, 5",
                 "end,5,", "end,5," + sig.substr(1), "end,5," + sig + "A", "end,5," + sig + ",x", "end,5, " + sig,
                 "end,5," + Base64::encode(bytes<32>(1)), "end," + sig, "end,,", "end,5,-"})
            assertRefused(bad, RosterFormat::Peerchat);
    }

    void testRefuseBadKeysInPeerchatFormat()
    {
        const std::string k = Base64::encode(bytes<32>(1)), sig = Base64::encode(bytes<64>(1));
        const std::string head = "alice,127.0.0.1:5001,peerchat/2,";
        CPPUNIT_ASSERT(decodeOk(head + k + "," + k + "," + sig + ";end", RosterFormat::Peerchat)[0].keys);
        CPPUNIT_ASSERT(!decodeOk(head + "-,-,-;end", RosterFormat::Peerchat)[0].keys);
        CPPUNIT_ASSERT(decodeOk("alice, 127.0.0.1:5001, peerchat/2, " + k + ", " + k + ", " + sig + ";end",
                                RosterFormat::Peerchat)[0].keys);
        for (const std::string& keys : std::vector<std::string>{
                 k + "," + k, "-,-", "-,-,-,-", k + ",-,-", "-," + k + ",-", "-,-," + sig, k + "," + k + "," + k,
                 sig + "," + k + "," + sig, k + "=," + k + "," + sig, k.substr(1) + "," + k + "," + sig,
                 k + "," + k + "," + sig + ",x", ",,", "-,-,-,"})
            assertRefused(head + keys + ";end,1", RosterFormat::Peerchat);
    }

    void testRefuseTruncatedSignedStream()
    {
        // A cut signed stream may still parse (it can end at `end` or `end,SEQ`), but never with a signature.
        const std::string full = RosterCodec::withSignature(RosterCodec::encode(twoUsers(), RosterFormat::Peerchat, 1234),
                                                            bytes<64>(3));
        for (std::size_t n = 0; n < full.size(); ++n) {
            RosterTrailer trailer;
            const auto parsed = RosterCodec::decode(full.substr(0, n), RosterFormat::Peerchat, &trailer);
            CPPUNIT_ASSERT_MESSAGE("the first " + std::to_string(n) + " bytes carry a signature", !parsed.ok() || !trailer.sig);
        }
    }

    void testRoundTripAllFormats()
    {
        std::vector<RosterEntry> users = {entry("天涯", "[::1]:5002", "peerchat/2", keys(9)), entry("alice", "127.0.0.1:5001", "seed"),
                                          entry("bob", "10.1.2.3:65535", "dotnet"), entry(std::string(32, 'z'), "[2001:db8::7]:1", "seed")};
        for (int i = 0; i < 200; ++i)
            users.push_back(entry("user" + std::to_string(i), "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":6000", "peerchat/2", keys(static_cast<std::uint8_t>(i))));
        for (RosterFormat format : kFormats) {
            const auto decoded = decodeOk(RosterCodec::encode(users, format), format);
            const auto expected = format == RosterFormat::Peerchat ? users : withoutDialects(users);
            CPPUNIT_ASSERT_EQUAL(describe(expected), describe(decoded));
        }
    }

    void testRefuseMissingEnd()
    {
        for (const std::string text : {"", "alice,127.0.0.1:5001;", "alice,127.0.0.1:5001", "en", "END", "end;", "end\n",
                                       "end end", "alice,127.0.0.1:5001;en", "alice,127.0.0.1:5001;endx"})
            assertTextRefused(text);
        assertRefused("", RosterFormat::Peerchat);
        assertRefused("alice,127.0.0.1:5001,seed,-,-,-;", RosterFormat::Peerchat);
        assertRefused("alice,127.0.0.1:5001,seed,-,-,-;end;", RosterFormat::Peerchat);
    }

    void testRefuseTruncatedStreams()
    {
        // A peerchat stream cut right after `end` parses; testRefuseTruncatedSignedStream covers that format.
        for (RosterFormat format : {RosterFormat::SeedText, RosterFormat::DotNet}) {
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
        assertRefused("alice,localhost:5001,seed,-,-,-;end", RosterFormat::Peerchat);
        assertRefused(",127.0.0.1:5001,seed,-,-,-;end", RosterFormat::Peerchat);
    }

    void testRefuseDuplicateNames()
    {
        assertTextRefused("alice,127.0.0.1:5001;alice,127.0.0.1:5002;end");
        assertTextRefused("天涯,127.0.0.1:5001;bob,127.0.0.1:5003;天涯,[::1]:5002;end");
        assertRefused("alice,127.0.0.1:5001,seed,-,-,-;alice,127.0.0.1:5002,dotnet,-,-,-;end", RosterFormat::Peerchat);
        // The same endpoint under two names is a matter for indexd, not the codec.
        decodeOk("alice,127.0.0.1:5001;bob,127.0.0.1:5001;end", RosterFormat::SeedText);
    }

    void testRefuseMissingDialectInPeerchatFormat()
    {
        for (const std::string text : {"alice,127.0.0.1:5001;end", "alice,127.0.0.1:5001,,-,-,-;end",
                                       "alice,127.0.0.1:5001,seed,-,-,-;bob,127.0.0.1:5002;end",
                                       "alice,127.0.0.1:5001,-,-,-;end",
                                       // peerchat/1's entries had no keys
                                       "alice,127.0.0.1:5001,seed;end"})
            assertRefused(text, RosterFormat::Peerchat);
    }

    void testRefuseBadDialectInPeerchatFormat()
    {
        for (const std::string& dialect : {std::string("Peerchat/1"), std::string("peer chat"), std::string("\x1b[31m"),
                                          std::string("seed,dotnet"), std::string("天涯"), std::string(33, 'a')})
            assertRefused("alice,127.0.0.1:5001," + dialect + ",-,-,-;end", RosterFormat::Peerchat);
        const std::string longest(32, 'a');
        CPPUNIT_ASSERT_EQUAL(longest, decodeOk("alice,127.0.0.1:5001," + longest + ",-,-,-;end", RosterFormat::Peerchat)[0].dialect);
    }

    void testRefuseExtraFieldInSeedFormats()
    {
        assertTextRefused("alice,127.0.0.1:5001,peerchat/2;end");
        assertTextRefused("alice,127.0.0.1:5001,;end");
        assertTextRefused("alice,127.0.0.1:5001,peerchat/2," + keysText(1) + ";end");
        assertRefused("alice,127.0.0.1:5001,peerchat/2," + keysText(1) + ",extra;end", RosterFormat::Peerchat);
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
        assertRefused("alice,127.0.0.1:5001,seed,-,-,-;" + std::string(RosterCodec::kMaxStreamBytes, ' ') + "end",
                      RosterFormat::Peerchat);
    }

    void testSurviveRandomStreams()
    {
        std::vector<std::string> corpus;
        const std::vector<RosterEntry> users = {entry("alice", "127.0.0.1:5001", "peerchat/2", keys(1)), entry("天涯", "[::1]:5002", "dotnet"),
                                                entry("bob", "10.0.0.2:6000", "seed")};
        for (RosterFormat format : kFormats) {
            corpus.push_back(RosterCodec::encode(users, format, 3));
            corpus.push_back(RosterCodec::encode({users[0]}, format));
            corpus.push_back(RosterCodec::encode({}, format));
        }
        corpus.push_back(RosterCodec::withSignature(RosterCodec::encode(users, RosterFormat::Peerchat, 3), bytes<64>(5)));
        test::ByteFuzzer fuzzer(424242, {",", ";", "end", ";end", ":", "[", "]", "::1", "127.0.0.1", ":5001", "alice",
                                         "bob", "天涯", "peerchat/2", "seed", "dotnet", " ", std::string(1, '\0'), "\x80",
                                         "\xFF", "-", "-,-,-", ",-", "end,7", Base64::encode(bytes<32>(2)),
                                         Base64::encode(bytes<64>(4))});
        std::size_t accepted = 0;
        for (int i = 0; i < 20000; ++i) {
            const std::string stream = i % 2 == 0 ? fuzzer.randomBytes(16) : fuzzer.mutate(corpus[fuzzer.below(corpus.size())]);
            for (RosterFormat format : kFormats) {
                RosterTrailer trailer;
                const auto parsed = RosterCodec::decode(stream, format, &trailer);
                if (!parsed.ok()) {
                    CPPUNIT_ASSERT_MESSAGE("refusal without a reason", !parsed.error().empty());
                    continue;
                }
                ++accepted;
                std::string encoded = RosterCodec::encode(*parsed, format, trailer.seq);
                if (trailer.sig) encoded = RosterCodec::withSignature(encoded, *trailer.sig);
                RosterTrailer trailerAgain;
                const auto again = RosterCodec::decode(encoded, format, &trailerAgain);
                CPPUNIT_ASSERT_MESSAGE(formatName(format) + " re-encoding refused: " + again.error(), again.ok());
                CPPUNIT_ASSERT_EQUAL(describe(*parsed), describe(*again));
                CPPUNIT_ASSERT_EQUAL(trailer.seq, trailerAgain.seq);
                CPPUNIT_ASSERT(trailer.sig == trailerAgain.sig);
            }
        }
        CPPUNIT_ASSERT_MESSAGE(std::to_string(accepted) + " accepted", accepted > 500);
    }

    void testEncodeRequestExactlyAndBack()
    {
        const RosterRequest request{bytes<24>(9)};
        const std::string line = RosterCodec::encodeRequest(request);
        CPPUNIT_ASSERT_EQUAL("roster," + Base64::encode(bytes<24>(9)) + "\n", line);
        CPPUNIT_ASSERT(line.size() <= RosterCodec::kMaxRequestBytes);
        const auto back = RosterCodec::decodeRequest(std::string_view(line).substr(0, line.size() - 1));
        CPPUNIT_ASSERT_MESSAGE(back.error(), back.ok());
        CPPUNIT_ASSERT(back->nonce == request.nonce);
    }

    void testRefuseBadRequests()
    {
        const std::string nonce = Base64::encode(bytes<24>(9));
        for (const std::string& line : {std::string(), std::string("roster"), std::string("roster,"), "roster," + nonce + "A",
                                        "roster," + nonce.substr(1), "Roster," + nonce, "roster, " + nonce,
                                        "roster," + nonce + ",", "end," + nonce, Base64::encode(bytes<32>(1))}) {
            const auto parsed = RosterCodec::decodeRequest(line);
            CPPUNIT_ASSERT_MESSAGE(line, !parsed.ok());
            CPPUNIT_ASSERT_MESSAGE(line, !parsed.error().empty());
        }
    }

    void testDigestIsBlake2b256OfSignedPart()
    {
        // BLAKE2b-256 of the empty string (RFC 7693's parameters, no key).
        const RosterDigest empty = RosterCodec::digest("");
        char hex[2 * sizeof empty + 1];
        sodium_bin2hex(hex, sizeof hex, empty.data(), empty.size());
        CPPUNIT_ASSERT_EQUAL(std::string("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"),
                             std::string(hex));
        const std::string signedPart = RosterCodec::encode(twoUsers(), RosterFormat::Peerchat, 9);
        CPPUNIT_ASSERT(RosterCodec::digest(signedPart) != RosterCodec::digest(signedPart + " "));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterCodecTest);
