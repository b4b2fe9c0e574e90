#include "Base64.h"
#include "DataPath.h"
#include "KeyFile.h"
#include "LocalSocketPath.h"
#include "PeerSettings.h"

#include <Poco/AutoPtr.h>
#include <Poco/Message.h>
#include <Poco/Util/MapConfiguration.h>

#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

using peerchat::Parsed;
using peerchat::PeerSettings;

namespace {

Parsed<PeerSettings> read(const std::map<std::string, std::string>& values, const std::set<std::string>& flagKeys = {})
{
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    for (const auto& [key, value] : values) config->setString(key, value);
    return PeerSettings::read(*config, flagKeys);
}

} // namespace

class PeerSettingsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PeerSettingsTest);
    CPPUNIT_TEST(testReadAppliesDefaults);
    CPPUNIT_TEST(testReadTakesEveryKey);
    CPPUNIT_TEST(testReadResolvesIndexHostName);
    CPPUNIT_TEST(testReadRefusesMissingUser);
    CPPUNIT_TEST(testReadRefusesBadUserName);
    CPPUNIT_TEST(testReadNamesTheFlagThatWasWrong);
    CPPUNIT_TEST(testReadRefusesBadValues);
    CPPUNIT_TEST(testReadRefusesMixedAddressFamilies);
    CPPUNIT_TEST(testReadRefusesIndexKeyOfWrongLength);
    CPPUNIT_TEST(testReadTakesLegacySwitchWords);
    CPPUNIT_TEST(testKeysAreAllPeerdKeys);
    CPPUNIT_TEST_SUITE_END();

public:
    void testReadAppliesDefaults()
    {
        const auto settings = read({{"peerd.user", "alice"}});
        CPPUNIT_ASSERT_MESSAGE(settings.error(), settings.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), settings->user);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:9400"), settings->index.toString());
        CPPUNIT_ASSERT_EQUAL(std::string("0.0.0.0:0"), settings->bind.toString());
        CPPUNIT_ASSERT_EQUAL(peerchat::LocalSocketPath::defaultFor("alice"), settings->socketPath);
        CPPUNIT_ASSERT_EQUAL(peerchat::DataPath::defaultFor("alice.db"), settings->database);
        CPPUNIT_ASSERT_EQUAL(peerchat::KeyFile::defaultPath("alice.key"), settings->keyFile);
        CPPUNIT_ASSERT(!settings->indexKey);
        CPPUNIT_ASSERT(!settings->legacy);
        CPPUNIT_ASSERT(settings->strangers == peerchat::Contacts::Strangers::Hold);
        CPPUNIT_ASSERT(settings->sendTyping);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), static_cast<std::int64_t>(settings->autoAway.count()));
        CPPUNIT_ASSERT(!read({{"peerd.user", "alice"}, {"peerd.typing", "false"}})->sendTyping);
        CPPUNIT_ASSERT(read({{"peerd.user", "alice"}, {"peerd.strangers", "refuse"}})->strangers ==
                       peerchat::Contacts::Strangers::Refuse);
        CPPUNIT_ASSERT_EQUAL(std::size_t(10000), settings->historyLimit);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2000), static_cast<std::int64_t>(settings->loginRetry.count()));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10000), static_cast<std::int64_t>(settings->heartbeat.count()));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(300), static_cast<std::int64_t>(settings->retransmit.count()));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(60000), static_cast<std::int64_t>(settings->giveUp.count()));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10000), static_cast<std::int64_t>(settings->dropReport.count()));
        CPPUNIT_ASSERT(!settings->faults.enabled());
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(Poco::Message::PRIO_INFORMATION), settings->logLevel);
    }

    void testReadTakesEveryKey()
    {
        peerchat::PublicKey indexKey{};
        for (std::size_t i = 0; i < indexKey.size(); ++i) indexKey[i] = static_cast<std::uint8_t>(i * 7);
        const auto settings = read({{"peerd.user", "天涯"},
                                    {"peerd.key", "/tmp/x/tianya.key"},
                                    {"peerd.indexKey", peerchat::Base64::encode(indexKey)},
                                    {"peerd.legacy", "true"},
                                    {"peerd.index", "[::1]:4000"},
                                    {"peerd.port", "5001"},
                                    {"peerd.bind", "::1"},
                                    {"peerd.socket", "/tmp/x/tianya.sock"},
                                    {"peerd.database", "/tmp/x/tianya.db"},
                                    {"peerd.historyLimit", "50"},
                                    {"peerd.loginRetryMs", "100"},
                                    {"peerd.heartbeatMs", "200"},
                                    {"peerd.retransmitMs", "50"},
                                    {"peerd.giveUpMs", "5000"},
                                    {"peerd.dropReportMs", "500"},
                                    {"peerd.faults", "drop=0.3,dup=0.1,reorder=0.1,delay=5,seed=7"},
                                    {"peerd.logLevel", "debug"}});
        CPPUNIT_ASSERT_MESSAGE(settings.error(), settings.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("天涯"), settings->user);
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:4000"), settings->index.toString());
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5001"), settings->bind.toString());
        CPPUNIT_ASSERT_EQUAL(std::string("/tmp/x/tianya.sock"), settings->socketPath);
        CPPUNIT_ASSERT_EQUAL(std::string("/tmp/x/tianya.db"), settings->database);
        CPPUNIT_ASSERT_EQUAL(std::string("/tmp/x/tianya.key"), settings->keyFile);
        CPPUNIT_ASSERT(settings->indexKey == indexKey);
        CPPUNIT_ASSERT(settings->legacy);
        CPPUNIT_ASSERT_EQUAL(std::size_t(50), settings->historyLimit);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(100), static_cast<std::int64_t>(settings->loginRetry.count()));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(200), static_cast<std::int64_t>(settings->heartbeat.count()));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(50), static_cast<std::int64_t>(settings->retransmit.count()));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5000), static_cast<std::int64_t>(settings->giveUp.count()));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(500), static_cast<std::int64_t>(settings->dropReport.count()));
        CPPUNIT_ASSERT_EQUAL(std::string("drop=0.3,dup=0.1,reorder=0.1,delay=5,seed=7"), settings->faults.toString());
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(Poco::Message::PRIO_DEBUG), settings->logLevel);
    }

    void testReadResolvesIndexHostName()
    {
        const auto settings = read({{"peerd.user", "alice"}, {"peerd.index", "localhost:9400"}});
        CPPUNIT_ASSERT_MESSAGE(settings.error(), settings.ok());
        CPPUNIT_ASSERT(settings->index.host().isLoopback());
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(9400), settings->index.port());
    }

    void testReadRefusesMissingUser()
    {
        const auto settings = read({});
        CPPUNIT_ASSERT(!settings.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("peerd.user is required: the name to chat as, e.g. --user alice"),
                             settings.error());
    }

    void testReadRefusesBadUserName()
    {
        for (const std::string& name : std::vector<std::string>{"a b", "a,b", "a:b", "a;b", std::string(33, 'a'), "bad\xff"}) {
            const auto settings = read({{"peerd.user", name}}, {"peerd.user"});
            CPPUNIT_ASSERT_MESSAGE(name, !settings.ok());
            CPPUNIT_ASSERT_MESSAGE(settings.error(), settings.error().rfind("--user '", 0) == 0);
            CPPUNIT_ASSERT_MESSAGE(settings.error(), settings.error().find("is not a usable name") != std::string::npos);
        }
    }

    void testReadNamesTheFlagThatWasWrong()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("--port must be 0..65535, got 'abc'"),
                             read({{"peerd.user", "alice"}, {"peerd.port", "abc"}}, {"peerd.port"}).error());
        CPPUNIT_ASSERT_EQUAL(std::string("peerd.port must be 0..65535, got '70000'"),
                             read({{"peerd.user", "alice"}, {"peerd.port", "70000"}}).error());
        CPPUNIT_ASSERT_EQUAL(std::string("--history-limit must be 1..10000000, got '0'"),
                             read({{"peerd.user", "alice"}, {"peerd.historyLimit", "0"}}, {"peerd.historyLimit"}).error());
    }

    void testReadRefusesBadValues()
    {
        const std::vector<std::pair<std::string, std::string>> bad{{"peerd.index", "127.0.0.1"},
                                                                {"peerd.index", "127.0.0.1:0"},
                                                                {"peerd.bind", "localhost"},
                                                                {"peerd.bind", "1.2.3"},
                                                                {"peerd.port", "-1"},
                                                                {"peerd.port", "12x"},
                                                                {"peerd.socket", ""},
                                                                {"peerd.database", ""},
                                                                {"peerd.key", ""},
                                                                {"peerd.indexKey", "not base64!"},
                                                                {"peerd.legacy", "maybe"},
                                                                {"peerd.strangers", "ignore"},
                                                                {"peerd.autoAwayMinutes", "-1"},
                                                                {"peerd.historyLimit", ""},
                                                                {"peerd.loginRetryMs", "5"},
                                                                {"peerd.heartbeatMs", "0"},
                                                                {"peerd.retransmitMs", "0"},
                                                                {"peerd.giveUpMs", "1x"},
                                                                {"peerd.dropReportMs", "9"},
                                                                {"peerd.faults", "drop=2"},
                                                                {"peerd.faults", "lose=0.1"},
                                                                {"peerd.logLevel", "loud"}};
        for (const auto& [key, value] : bad) {
            const auto settings = read({{"peerd.user", "alice"}, {key, value}});
            CPPUNIT_ASSERT_MESSAGE(key + "=" + value, !settings.ok());
            CPPUNIT_ASSERT_MESSAGE(settings.error(), settings.error().rfind(key + " ", 0) == 0);
        }
    }

    void testReadRefusesMixedAddressFamilies()
    {
        const auto settings = read({{"peerd.user", "alice"}, {"peerd.bind", "::"}, {"peerd.index", "127.0.0.1:9400"}});
        CPPUNIT_ASSERT(!settings.ok());
        CPPUNIT_ASSERT_MESSAGE(settings.error(), settings.error().find("IPv6") != std::string::npos);
    }

    void testReadRefusesIndexKeyOfWrongLength()
    {
        // 31 and 33 bytes: canonical base64url, but not a key.
        for (const std::string& value : {peerchat::Base64::encode(std::string(31, 'k')),
                                         peerchat::Base64::encode(std::string(33, 'k'))}) {
            const auto settings = read({{"peerd.user", "alice"}, {"peerd.indexKey", value}}, {"peerd.indexKey"});
            CPPUNIT_ASSERT_MESSAGE(value, !settings.ok());
            CPPUNIT_ASSERT_MESSAGE(settings.error(),
                                   settings.error().rfind("--index-key must be indexd's public key: 43 characters "
                                                          "of base64url", 0) == 0);
            CPPUNIT_ASSERT_MESSAGE(settings.error(), settings.error().find("got '" + value + "'") != std::string::npos);
        }
    }

    void testReadTakesLegacySwitchWords()
    {
        for (const char* yes : {"true", "yes", "on", "TRUE"})
            CPPUNIT_ASSERT_MESSAGE(yes, read({{"peerd.user", "alice"}, {"peerd.legacy", yes}})->legacy);
        for (const char* no : {"false", "no", "off"})
            CPPUNIT_ASSERT_MESSAGE(no, !read({{"peerd.user", "alice"}, {"peerd.legacy", no}})->legacy);
    }

    void testKeysAreAllPeerdKeys()
    {
        std::set<std::string> flags;
        for (const auto& key : PeerSettings::keys()) {
            CPPUNIT_ASSERT_EQUAL(std::string("peerd."), key.key.substr(0, 6));
            CPPUNIT_ASSERT(flags.insert(key.flag).second);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(20), flags.size());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PeerSettingsTest);
