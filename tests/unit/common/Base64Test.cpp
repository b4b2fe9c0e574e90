#include "Base64.h"
#include "CryptoTypes.h"

#include <cppunit/extensions/HelperMacros.h>
#include <sodium.h>

#include <random>
#include <array>
#include <string>

using peerchat::Base64;

class Base64Test : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(Base64Test);
    CPPUNIT_TEST(testEncodeRfc4648Vectors);
    CPPUNIT_TEST(testEncodeUrlSafeAlphabet);
    CPPUNIT_TEST(testEncodeKeyAs43Characters);
    CPPUNIT_TEST(testRoundTripEveryLength);
    CPPUNIT_TEST(testRefuseStandardAlphabet);
    CPPUNIT_TEST(testRefusePadding);
    CPPUNIT_TEST(testRefuseBadLength);
    CPPUNIT_TEST(testRefuseNonCanonicalTrailingBits);
    CPPUNIT_TEST(testRefuseWhitespaceAndOtherBytes);
    CPPUNIT_TEST(testDecodeIntoExactSize);
    CPPUNIT_TEST(testAppendWritesAfterWhatIsThere);
    CPPUNIT_TEST(testAgreesWithLibsodium);
    CPPUNIT_TEST_SUITE_END();

public:
    // libsodium's base64url without padding (what Base64 used before), with
    // its canonical spelling, on random bytes and random near-base64 texts.
    void testAgreesWithLibsodium()
    {
        constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
        std::mt19937 random(12);
        const std::string characters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= \n\x80";
        for (int round = 0; round < 20000; ++round) {
            std::string bytes(random() % 70, '\0');
            for (char& byte : bytes) byte = static_cast<char>(random());
            std::string expected(sodium_base64_encoded_len(bytes.size(), kVariant), '\0');
            sodium_bin2base64(expected.data(), expected.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                              bytes.size(), kVariant);
            expected.pop_back();
            CPPUNIT_ASSERT_EQUAL(expected, Base64::encode(bytes));

            std::string text(random() % 12, 'A');
            for (char& c : text) c = characters[random() % (round % 2 == 0 ? 64 : characters.size())];
            std::string decoded(text.size(), '\0');
            std::size_t size = 0;
            const char* end = nullptr;
            const bool sodiumTakes = sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()),
                                                       decoded.size(), text.data(), text.size(), nullptr, &size,
                                                       &end, kVariant) == 0 &&
                                     end == text.data() + text.size();
            decoded.resize(size);
            const bool canonical = sodiumTakes && Base64::encode(decoded) == text;
            const auto ours = Base64::decode(text);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, canonical, ours.has_value());
            if (ours) CPPUNIT_ASSERT(*ours == decoded);
        }
    }

    void testAppendWritesAfterWhatIsThere()
    {
        std::string out = "seal,";
        Base64::append(out, std::string_view("foob"));
        out += ',';
        Base64::append(out, std::array<std::uint8_t, 3>{0xfb, 0xff, 0xbf});
        CPPUNIT_ASSERT_EQUAL(std::string("seal,Zm9vYg,-_-_"), out);
        CPPUNIT_ASSERT_EQUAL(Base64::encode("foob").size(), Base64::encodedSize(4));
    }

    void testEncodeRfc4648Vectors()
    {
        // RFC 4648 section 10, without the padding.
        const std::pair<std::string, std::string> vectors[] = {
            {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
            {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
        };
        for (const auto& [bytes, text] : vectors) {
            CPPUNIT_ASSERT_EQUAL(text, Base64::encode(bytes));
            CPPUNIT_ASSERT_EQUAL(bytes, Base64::decode(text).value_or("<refused>"));
        }
    }

    void testEncodeUrlSafeAlphabet()
    {
        // 0xfb 0xff 0xbf is "+/+/" in the standard alphabet.
        CPPUNIT_ASSERT_EQUAL(std::string("-_-_"), Base64::encode(std::string("\xfb\xff\xbf", 3)));
        CPPUNIT_ASSERT_EQUAL(std::string("\xfb\xff\xbf", 3), Base64::decode("-_-_").value_or(""));
        CPPUNIT_ASSERT_EQUAL(std::string("____"), Base64::encode(std::string("\xff\xff\xff", 3)));
        CPPUNIT_ASSERT_EQUAL(std::string("\xff\xff\xff", 3), Base64::decode("____").value_or(""));
    }

    void testEncodeKeyAs43Characters()
    {
        peerchat::PublicKey key{};
        for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
        const std::string text = Base64::encode(key);
        CPPUNIT_ASSERT_EQUAL(std::size_t(43), text.size());
        peerchat::Signature sig{};
        CPPUNIT_ASSERT_EQUAL(std::size_t(86), Base64::encode(sig).size());
        peerchat::PublicKey back{};
        CPPUNIT_ASSERT(Base64::decodeInto(text, back));
        CPPUNIT_ASSERT(back == key);
    }

    void testRoundTripEveryLength()
    {
        std::mt19937 random(5);
        for (std::size_t size = 0; size <= 300; ++size) {
            std::string bytes(size, '\0');
            for (char& c : bytes) c = static_cast<char>(random() & 0xFF);
            const std::string text = Base64::encode(bytes);
            CPPUNIT_ASSERT_EQUAL((size * 4 + 2) / 3, text.size());
            const auto back = Base64::decode(text);
            CPPUNIT_ASSERT_MESSAGE("size " + std::to_string(size), back && *back == bytes);
        }
    }

    void testRefuseStandardAlphabet()
    {
        CPPUNIT_ASSERT(!Base64::decode("+/+/"));
        CPPUNIT_ASSERT(!Base64::decode("ab+d"));
        CPPUNIT_ASSERT(!Base64::decode("ab/d"));
    }

    void testRefusePadding()
    {
        CPPUNIT_ASSERT(!Base64::decode("Zg=="));
        CPPUNIT_ASSERT(!Base64::decode("Zm8="));
        CPPUNIT_ASSERT(!Base64::decode("Zg="));
        CPPUNIT_ASSERT(!Base64::decode("="));
    }

    void testRefuseBadLength()
    {
        // A length of 1 mod 4 cannot come from any byte string.
        CPPUNIT_ASSERT(!Base64::decode("Z"));
        CPPUNIT_ASSERT(!Base64::decode("Zm9vY"));
    }

    void testRefuseNonCanonicalTrailingBits()
    {
        // "Zg" is "f"; "Zh".."Zv" carry the same byte with nonzero unused bits.
        CPPUNIT_ASSERT(Base64::decode("Zg"));
        for (const char* text : {"Zh", "Zi", "Zv", "Zm9", "Zm-"}) {
            CPPUNIT_ASSERT_MESSAGE(text, !Base64::decode(text));
        }
    }

    void testRefuseWhitespaceAndOtherBytes()
    {
        for (const std::string& text : std::initializer_list<std::string>{" Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "Zm\t9v", "Zm9v\r\n", "Zm.v", "Zm,v",
                                                                           std::string("Zm9v\0", 5), "Zm9\xC3\xA9", "-,-"}) {
            CPPUNIT_ASSERT_MESSAGE(text, !Base64::decode(text));
        }
    }

    void testDecodeIntoExactSize()
    {
        peerchat::KeyId id{};
        CPPUNIT_ASSERT(Base64::decodeInto(Base64::encode(std::string(8, 'x')), id));
        CPPUNIT_ASSERT_EQUAL(std::uint8_t('x'), id[7]);
        CPPUNIT_ASSERT(!Base64::decodeInto(Base64::encode(std::string(7, 'x')), id));
        CPPUNIT_ASSERT(!Base64::decodeInto(Base64::encode(std::string(9, 'x')), id));
        CPPUNIT_ASSERT(!Base64::decodeInto("", id));
        CPPUNIT_ASSERT(!Base64::decodeInto("not base64!", id));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Base64Test);
