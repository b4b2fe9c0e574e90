#include "SettingsReader.h"

#include <Poco/AutoPtr.h>
#include <Poco/Message.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Util/MapConfiguration.h>

#include <cppunit/extensions/HelperMacros.h>

using peerchat::SettingKey;
using peerchat::SettingsReader;

namespace {

const std::vector<SettingKey>& testKeys()
{
    static const std::vector<SettingKey> keys{
        {"test.count", "count", "N", "a number"},
        {"test.port", "port", "P", "a port"},
        {"test.bind", "bind", "ADDR", "an address"},
        {"test.logLevel", "log-level", "LEVEL", "a level"},
        {"test.legacy", "legacy", "true|false", "a switch", true},
    };
    return keys;
}

} // namespace

class SettingsReaderTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(SettingsReaderTest);
    CPPUNIT_TEST(testNumberGivesDefaultWhenUnset);
    CPPUNIT_TEST(testNumberTakesBounds);
    CPPUNIT_TEST(testNumberRefusesOutOfRangeNamingFlag);
    CPPUNIT_TEST(testNumberRefusesNonDecimalNamingKey);
    CPPUNIT_TEST(testPortRefuses65536);
    CPPUNIT_TEST(testAddressTakesNumericAddresses);
    CPPUNIT_TEST(testAddressRefusesOtherText);
    CPPUNIT_TEST(testLogLevelTakesNames);
    CPPUNIT_TEST(testLogLevelRefusesUnknownName);
    CPPUNIT_TEST(testFlagTakesYesAndNo);
    CPPUNIT_TEST(testFlagRefusesOtherTextNamingFlag);
    CPPUNIT_TEST(testFailKeepsFirstError);
    CPPUNIT_TEST(testFailNamesUnlistedFlagKeyByKey);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { _config = new Poco::Util::MapConfiguration; }

    void testNumberGivesDefaultWhenUnset()
    {
        SettingsReader reader(*_config, testKeys(), {});
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), reader.number("test.count", 7, 1, 10));
        CPPUNIT_ASSERT_EQUAL(std::string("fallback"), reader.text("test.name", "fallback"));
        CPPUNIT_ASSERT(!reader.error());
    }

    void testNumberTakesBounds()
    {
        SettingsReader reader(*_config, testKeys(), {});
        _config->setString("test.count", "1");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), reader.number("test.count", 7, 1, 10));
        _config->setString("test.count", "10");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(10), reader.number("test.count", 7, 1, 10));
        _config->setString("test.count", "18446744073709551615");
        CPPUNIT_ASSERT_EQUAL(UINT64_MAX, reader.number("test.count", 7, 0, UINT64_MAX));
        CPPUNIT_ASSERT_MESSAGE(reader.error().value_or(""), !reader.error());
    }

    void testNumberRefusesOutOfRangeNamingFlag()
    {
        for (const char* bad : {"0", "11", "18446744073709551616"}) {
            _config->setString("test.count", bad);
            SettingsReader reader(*_config, testKeys(), {"test.count"});
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), reader.number("test.count", 7, 1, 10));
            CPPUNIT_ASSERT(reader.error());
            CPPUNIT_ASSERT_EQUAL("--count must be 1..10, got '" + std::string(bad) + "'", *reader.error());
        }
    }

    void testNumberRefusesNonDecimalNamingKey()
    {
        for (const char* bad : {"", "abc", "-1", "+5", " 5", "5 ", "0x5", "5.0"}) {
            _config->setString("test.count", bad);
            SettingsReader reader(*_config, testKeys(), {});
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), reader.number("test.count", 7, 1, 10));
            CPPUNIT_ASSERT_MESSAGE(bad, reader.error());
            CPPUNIT_ASSERT_EQUAL("test.count must be 1..10, got '" + std::string(bad) + "'", *reader.error());
        }
    }

    void testPortRefuses65536()
    {
        _config->setString("test.port", "65535");
        SettingsReader reader(*_config, testKeys(), {"test.port"});
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(65535), reader.port("test.port", 9400));
        CPPUNIT_ASSERT(!reader.error());
        _config->setString("test.port", "65536");
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(9400), reader.port("test.port", 9400));
        CPPUNIT_ASSERT(reader.error());
        CPPUNIT_ASSERT_EQUAL(std::string("--port must be 0..65535, got '65536'"), *reader.error());
    }

    void testAddressTakesNumericAddresses()
    {
        for (const char* good : {"127.0.0.1", "0.0.0.0", "::", "::1", "fe80::1", "::ffff:10.0.0.1"}) {
            _config->setString("test.bind", good);
            SettingsReader reader(*_config, testKeys(), {"test.bind"});
            const Poco::Net::IPAddress address = reader.address("test.bind", "0.0.0.0");
            CPPUNIT_ASSERT_MESSAGE(reader.error().value_or(""), !reader.error());
            CPPUNIT_ASSERT_EQUAL(Poco::Net::IPAddress::parse(good), address);
        }
        SettingsReader unset(*_config, testKeys(), {});
        CPPUNIT_ASSERT_EQUAL(std::string("::1"), unset.address("test.other", "::1").toString());
        CPPUNIT_ASSERT(unset.address("test.other", "::").isWildcard());
        CPPUNIT_ASSERT_EQUAL(Poco::Net::IPAddress::IPv6, unset.address("test.other", "::").family());
        CPPUNIT_ASSERT(!unset.error());
    }

    void testAddressRefusesOtherText()
    {
        for (const char* bad : {"1.2.3", "1.2.3.4.5", "256.0.0.1", "localhost", "fe80::1%eth0", "", " ::1", "[::1]"}) {
            _config->setString("test.bind", bad);
            SettingsReader byFlag(*_config, testKeys(), {"test.bind"});
            byFlag.address("test.bind", "0.0.0.0");
            CPPUNIT_ASSERT_MESSAGE(bad, byFlag.error());
            CPPUNIT_ASSERT_EQUAL("--bind must be a numeric IP address such as 127.0.0.1, 0.0.0.0 or ::, got '"
                                     + std::string(bad) + "'",
                                 *byFlag.error());
            SettingsReader byFile(*_config, testKeys(), {});
            byFile.address("test.bind", "0.0.0.0");
            CPPUNIT_ASSERT_MESSAGE(bad, byFile.error());
            CPPUNIT_ASSERT(byFile.error()->rfind("test.bind must be a numeric IP address", 0) == 0);
        }
    }

    void testLogLevelTakesNames()
    {
        const std::vector<std::pair<std::string, int>> cases{
            {"none", 0},
            {"fatal", Poco::Message::PRIO_FATAL},
            {"error", Poco::Message::PRIO_ERROR},
            {"warning", Poco::Message::PRIO_WARNING},
            {"information", Poco::Message::PRIO_INFORMATION},
            {"trace", Poco::Message::PRIO_TRACE},
        };
        for (const auto& [name, level] : cases) {
            _config->setString("test.logLevel", name);
            SettingsReader reader(*_config, testKeys(), {});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, level, reader.logLevel("test.logLevel", "information"));
            CPPUNIT_ASSERT(!reader.error());
        }
    }

    void testLogLevelRefusesUnknownName()
    {
        _config->setString("test.logLevel", "loud");
        SettingsReader reader(*_config, testKeys(), {"test.logLevel"});
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(Poco::Message::PRIO_INFORMATION),
                             reader.logLevel("test.logLevel", "warning"));
        CPPUNIT_ASSERT(reader.error());
        CPPUNIT_ASSERT_EQUAL(std::string("--log-level must be one of none, fatal, critical, error, warning, notice, "
                                         "information, debug, trace; got 'loud'"),
                             *reader.error());
    }

    void testFlagTakesYesAndNo()
    {
        SettingsReader reader(*_config, testKeys(), {});
        CPPUNIT_ASSERT(!reader.flag("test.legacy", false));
        CPPUNIT_ASSERT(reader.flag("test.legacy", true));
        for (const char* yes : {"true", "True", "YES", "on"}) {
            _config->setString("test.legacy", yes);
            CPPUNIT_ASSERT_MESSAGE(yes, reader.flag("test.legacy", false));
        }
        for (const char* no : {"false", "FALSE", "no", "Off"}) {
            _config->setString("test.legacy", no);
            CPPUNIT_ASSERT_MESSAGE(no, !reader.flag("test.legacy", true));
        }
        CPPUNIT_ASSERT(!reader.error());
    }

    void testFlagRefusesOtherTextNamingFlag()
    {
        for (const char* bad : {"", "1", "0", "y", " true", "truee"}) {
            _config->setString("test.legacy", bad);
            SettingsReader reader(*_config, testKeys(), {"test.legacy"});
            CPPUNIT_ASSERT(reader.flag("test.legacy", true));
            CPPUNIT_ASSERT_EQUAL("--legacy must be true or false, got '" + std::string(bad) + "'",
                                 reader.error().value_or(""));
        }
    }

    void testFailKeepsFirstError()
    {
        _config->setString("test.count", "99");
        _config->setString("test.port", "x");
        SettingsReader reader(*_config, testKeys(), {"test.port"});
        reader.number("test.count", 7, 1, 10);
        reader.port("test.port", 0);
        reader.fail("test.bind", "is wrong too");
        CPPUNIT_ASSERT(reader.error());
        CPPUNIT_ASSERT_EQUAL(std::string("test.count must be 1..10, got '99'"), *reader.error());
    }

    void testFailNamesUnlistedFlagKeyByKey()
    {
        SettingsReader reader(*_config, testKeys(), {"test.unlisted"});
        reader.fail("test.unlisted", "must be a path");
        CPPUNIT_ASSERT(reader.error());
        CPPUNIT_ASSERT_EQUAL(std::string("test.unlisted must be a path"), *reader.error());
    }

private:
    Poco::AutoPtr<Poco::Util::MapConfiguration> _config;
};

CPPUNIT_TEST_SUITE_REGISTRATION(SettingsReaderTest);
