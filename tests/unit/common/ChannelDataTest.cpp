#include "ChannelData.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::ChannelData;

class ChannelDataTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ChannelDataTest);
    CPPUNIT_TEST(testEncodeHeaderThenPayloadUnpadded);
    CPPUNIT_TEST(testDecodeAcceptsPadding);
    CPPUNIT_TEST(testRefuseChannelOutsideRange);
    CPPUNIT_TEST(testRefuseWrongLengths);
    CPPUNIT_TEST_SUITE_END();

public:
    void testEncodeHeaderThenPayloadUnpadded()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("\x40\x01\x00\x05hello", 9), (ChannelData{0x4001, "hello"}.encode()));
        const auto back = ChannelData::decode(ChannelData{0x4FFF, "seal,1,2,3"}.encode());
        CPPUNIT_ASSERT_MESSAGE(back.error(), back.ok());
        CPPUNIT_ASSERT_EQUAL(std::uint16_t{0x4FFF}, back->channel);
        CPPUNIT_ASSERT_EQUAL(std::string("seal,1,2,3"), back->payload);
        CPPUNIT_ASSERT_EQUAL(std::string(), ChannelData::decode(std::string("\x40\x00\x00\x00", 4))->payload);
    }

    void testDecodeAcceptsPadding()
    {
        const auto padded = ChannelData::decode(std::string("\x40\x00\x00\x05hello\0\0\0", 12));
        CPPUNIT_ASSERT_MESSAGE(padded.error(), padded.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), padded->payload);
        CPPUNIT_ASSERT(!ChannelData::decode(std::string("\x40\x00\x00\x01h\0\0\0\0", 9)).ok());
    }

    void testRefuseChannelOutsideRange()
    {
        CPPUNIT_ASSERT(!ChannelData::decode(std::string("\x3F\xFF\x00\x00", 4)).ok());
        CPPUNIT_ASSERT(!ChannelData::decode(std::string("\x50\x00\x00\x00", 4)).ok());
    }

    void testRefuseWrongLengths()
    {
        CPPUNIT_ASSERT(!ChannelData::decode(std::string("\x40\x00\x00", 3)).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("shorter than its length field says"),
                             ChannelData::decode(std::string("\x40\x00\x00\x06hello", 9)).error());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChannelDataTest);
