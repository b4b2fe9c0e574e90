#include "IndexSettings.h"

#include "DataPath.h"
#include "KeyFile.h"

#include <Poco/AutoPtr.h>
#include <Poco/Message.h>
#include <Poco/Util/MapConfiguration.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <cstdlib>
#include <tuple>

using peerchat::IndexSettings;

class IndexSettingsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(IndexSettingsTest);
    CPPUNIT_TEST(testReadGivesDefaults);
    CPPUNIT_TEST(testReadTakesEveryKey);
    CPPUNIT_TEST(testReadRefusesBadPortNamingFlag);
    CPPUNIT_TEST(testReadRefusesBadValuesNamingKey);
    CPPUNIT_TEST(testReadTakesOnlyNumericBindAddresses);
    CPPUNIT_TEST(testDatabaseDefaultsToXdgDataHome);
    CPPUNIT_TEST(testReadRefusesBadFaultsNamingFlag);
    CPPUNIT_TEST(testLegacyTakesYesAndNo);
    CPPUNIT_TEST(testTurnTakesHostPortAndSecretFile);
    CPPUNIT_TEST(testTurnRefusedWithoutItsSecretFileAndBack);
    CPPUNIT_TEST(testTurnRefusesBadServerNamingFlag);
    CPPUNIT_TEST(testEveryKeyHasFlag);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { _config = new Poco::Util::MapConfiguration; }

    void testReadGivesDefaults()
    {
        const auto s = IndexSettings::read(*_config, {});
        CPPUNIT_ASSERT(s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("0.0.0.0"), s->bind.toString());
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(9400), s->udpPort);
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), s->rosterPort);
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), s->dotnetRosterPort);
        CPPUNIT_ASSERT_EQUAL(std::size_t(256), s->maxRosterConnections);
        CPPUNIT_ASSERT_EQUAL(std::size_t(8), s->rosterPerAddress);
        // Below peerd's 5000 ms fetch deadline, so a fetch stuck behind a
        // cut connection is not given up on first.
        CPPUNIT_ASSERT_EQUAL(3000L, static_cast<long>(s->rosterDeadline.count()));
        CPPUNIT_ASSERT_EQUAL(40000L, static_cast<long>(s->expireAfter.count()));
        CPPUNIT_ASSERT_EQUAL(peerchat::DataPath::defaultFor("indexd.db"), s->database);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1000), s->mail.recipientLines);
        CPPUNIT_ASSERT_EQUAL(std::size_t(500), s->mail.pairLines);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2 * 1024 * 1024), s->mail.pairBytes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2000), s->mail.senderLines);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(8 * 1024 * 1024), s->mail.senderBytes);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(256 * 1024 * 1024), s->mail.totalBytes);
        CPPUNIT_ASSERT_EQUAL(30LL * 24 * 3600 * 1000, static_cast<long long>(s->mailExpireAfter.count()));
        CPPUNIT_ASSERT_EQUAL(1000L, static_cast<long>(s->redeliverEvery.count()));
        CPPUNIT_ASSERT(!s->faults.enabled());
        CPPUNIT_ASSERT_EQUAL(peerchat::KeyFile::defaultPath("indexd.key"), s->keyPath);
        CPPUNIT_ASSERT(!s->legacy);
        CPPUNIT_ASSERT(s->turnHost.empty());
        CPPUNIT_ASSERT(s->turnSecretFile.empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(20), s->loginRate);
        CPPUNIT_ASSERT_EQUAL(std::size_t(65536), s->rateTableSize);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), s->loginsPerMinute);
        CPPUNIT_ASSERT_EQUAL(10000L, static_cast<long>(s->legacyProof.count()));
        CPPUNIT_ASSERT_EQUAL(10000L, static_cast<long>(s->dropReportEvery.count()));
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(Poco::Message::PRIO_INFORMATION), s->logLevel);
    }

    void testReadTakesEveryKey()
    {
        _config->setString("indexd.port", "0");
        _config->setString("indexd.bind", "::1");
        _config->setString("indexd.rosterPort", "65535");
        _config->setString("indexd.dotnetRosterPort", "4002");
        _config->setString("indexd.maxRosterConnections", "1");
        _config->setString("indexd.rosterPerAddress", "2");
        _config->setString("indexd.rosterDeadlineMs", "250");
        _config->setString("indexd.expireMs", "700");
        _config->setString("indexd.database", "/var/lib/peerchat/index.db");
        _config->setString("indexd.mailboxLimit", "0");
        _config->setString("indexd.mailPairLines", "1");
        _config->setString("indexd.mailPairBytes", "2");
        _config->setString("indexd.mailSenderLines", "3");
        _config->setString("indexd.mailSenderBytes", "4");
        _config->setString("indexd.mailboxBytes", "1099511627776");
        _config->setString("indexd.mailExpireMs", "100");
        _config->setString("indexd.redeliverMs", "250");
        _config->setString("indexd.faults", "drop=0.5,seed=9");
        _config->setString("indexd.key", "/etc/peerchat/indexd.key");
        _config->setString("indexd.legacy", "true");
        _config->setString("indexd.loginRate", "5");
        _config->setString("indexd.rateTableSize", "10");
        _config->setString("indexd.loginsPerMinute", "1");
        _config->setString("indexd.legacyProofMs", "500");
        _config->setString("indexd.dropReportMs", "10");
        _config->setString("indexd.logLevel", "warning");
        const auto s = IndexSettings::read(*_config, {});
        CPPUNIT_ASSERT_MESSAGE(s.error(), s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("::1"), s->bind.toString());
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), s->udpPort);
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(65535), s->rosterPort);
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(4002), s->dotnetRosterPort);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), s->maxRosterConnections);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), s->rosterPerAddress);
        CPPUNIT_ASSERT_EQUAL(250L, static_cast<long>(s->rosterDeadline.count()));
        CPPUNIT_ASSERT_EQUAL(700L, static_cast<long>(s->expireAfter.count()));
        CPPUNIT_ASSERT_EQUAL(std::string("/var/lib/peerchat/index.db"), s->database);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), s->mail.recipientLines);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), s->mail.pairLines);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), s->mail.pairBytes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), s->mail.senderLines);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), s->mail.senderBytes);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1099511627776), s->mail.totalBytes);
        CPPUNIT_ASSERT_EQUAL(100L, static_cast<long>(s->mailExpireAfter.count()));
        CPPUNIT_ASSERT_EQUAL(250L, static_cast<long>(s->redeliverEvery.count()));
        CPPUNIT_ASSERT_DOUBLES_EQUAL(0.5, s->faults.drop, 1e-9);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(9), s->faults.seed);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/peerchat/indexd.key"), s->keyPath);
        CPPUNIT_ASSERT(s->legacy);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), s->loginRate);
        CPPUNIT_ASSERT_EQUAL(std::size_t(10), s->rateTableSize);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), s->loginsPerMinute);
        CPPUNIT_ASSERT_EQUAL(500L, static_cast<long>(s->legacyProof.count()));
        CPPUNIT_ASSERT_EQUAL(10L, static_cast<long>(s->dropReportEvery.count()));
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(Poco::Message::PRIO_WARNING), s->logLevel);
    }

    void testReadRefusesBadPortNamingFlag()
    {
        for (const char* bad : {"abc", "-1", "65536", "", " 80", "80 ", "0x50", "99999999999999999999999"}) {
            _config->setString("indexd.port", bad);
            const auto s = IndexSettings::read(*_config, {"indexd.port"});
            CPPUNIT_ASSERT(!s.ok());
            CPPUNIT_ASSERT_EQUAL("--port must be 0..65535, got '" + std::string(bad) + "'", s.error());
        }
    }

    void testReadRefusesBadValuesNamingKey()
    {
        const std::vector<std::pair<std::string, std::string>> cases{
            {"indexd.bind", "localhost"},
            {"indexd.bind", "fe80::1%eth0"},
            {"indexd.rosterPort", "70000"},
            {"indexd.maxRosterConnections", "0"},
            {"indexd.rosterPerAddress", "0"},
            {"indexd.rosterDeadlineMs", "5"},
            {"indexd.logLevel", "loud"},
            {"indexd.expireMs", "50"},
            {"indexd.database", "indexd.db"},
            {"indexd.database", ""},
            {"indexd.mailboxLimit", "-1"},
            {"indexd.mailPairLines", "1000001"},
            {"indexd.mailPairBytes", "2M"},
            {"indexd.mailSenderLines", "-5"},
            {"indexd.mailSenderBytes", ""},
            {"indexd.mailboxBytes", "1099511627777"},
            {"indexd.mailExpireMs", "99"},
            {"indexd.redeliverMs", "1"},
            {"indexd.faults", "loss=0.1"},
            {"indexd.key", "indexd.key"},
            {"indexd.legacy", "maybe"},
            {"indexd.loginRate", "0"},
            {"indexd.rateTableSize", "0"},
            {"indexd.loginsPerMinute", "0"},
            {"indexd.legacyProofMs", "9"},
            {"indexd.dropReportMs", "9"},
        };
        for (const auto& [key, value] : cases) {
            Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
            config->setString(key, value);
            const auto s = IndexSettings::read(*config, {});
            CPPUNIT_ASSERT_MESSAGE(key + "=" + value, !s.ok());
            CPPUNIT_ASSERT_MESSAGE(s.error(), s.error().rfind(key + " must be", 0) == 0);
            CPPUNIT_ASSERT_MESSAGE(s.error(), s.error().find("'" + value + "'") != std::string::npos);
        }
    }

    // POCO's own parser refuses "::" and reads "1.2.3" as 1.2.0.3; --bind must do neither.
    void testReadTakesOnlyNumericBindAddresses()
    {
        _config->setString("indexd.bind", "::");
        const auto any = IndexSettings::read(*_config, {"indexd.bind"});
        CPPUNIT_ASSERT_MESSAGE(any.error(), any.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("::"), any->bind.toString());
        CPPUNIT_ASSERT(any->bind.isWildcard());

        _config->setString("indexd.bind", "1.2.3");
        const auto shortened = IndexSettings::read(*_config, {"indexd.bind"});
        CPPUNIT_ASSERT(!shortened.ok());
        CPPUNIT_ASSERT_EQUAL(
            std::string("--bind must be a numeric IP address such as 127.0.0.1, 0.0.0.0 or ::, got '1.2.3'"),
            shortened.error());
    }

    void testDatabaseDefaultsToXdgDataHome()
    {
        const char* old = std::getenv("XDG_DATA_HOME");
        const std::string saved = old ? old : "";
        ::setenv("XDG_DATA_HOME", "/srv/data", 1);
        const auto s = IndexSettings::read(*_config, {});
        if (old) ::setenv("XDG_DATA_HOME", saved.c_str(), 1);
        else ::unsetenv("XDG_DATA_HOME");
        CPPUNIT_ASSERT_EQUAL(std::string("/srv/data/peerchat/indexd.db"), s->database);

        _config->setString("indexd.database", ":memory:");
        CPPUNIT_ASSERT_EQUAL(std::string(":memory:"), IndexSettings::read(*_config, {})->database);
    }

    void testReadRefusesBadFaultsNamingFlag()
    {
        _config->setString("indexd.faults", "drop=2");
        const auto s = IndexSettings::read(*_config, {"indexd.faults"});
        CPPUNIT_ASSERT(!s.ok());
        CPPUNIT_ASSERT_MESSAGE(s.error(), s.error().rfind("--faults must be off or", 0) == 0);
        CPPUNIT_ASSERT_MESSAGE(s.error(), s.error().find("'drop=2'") != std::string::npos);
    }

    void testLegacyTakesYesAndNo()
    {
        for (const char* yes : {"true", "TRUE", "yes", "on"}) {
            _config->setString("indexd.legacy", yes);
            CPPUNIT_ASSERT_MESSAGE(yes, IndexSettings::read(*_config, {"indexd.legacy"})->legacy);
        }
        for (const char* no : {"false", "No", "off"}) {
            _config->setString("indexd.legacy", no);
            CPPUNIT_ASSERT_MESSAGE(no, !IndexSettings::read(*_config, {"indexd.legacy"})->legacy);
        }
        _config->setString("indexd.legacy", "1");
        CPPUNIT_ASSERT_EQUAL(std::string("--legacy must be true or false, got '1'"),
                             IndexSettings::read(*_config, {"indexd.legacy"}).error());
        const auto legacy = std::find_if(IndexSettings::keys().begin(), IndexSettings::keys().end(),
                                         [](const auto& key) { return key.key == "indexd.legacy"; });
        CPPUNIT_ASSERT(legacy->isSwitch);
    }

    void testTurnTakesHostPortAndSecretFile()
    {
        _config->setString("indexd.turnSecretFile", "/etc/peerchat/turn-secret");
        for (const auto& [server, host, port] : {std::tuple<std::string, std::string, int>{"turn.example.org:3478",
                                                                                        "turn.example.org", 3478},
                                                 {"192.0.2.7:1", "192.0.2.7", 1},
                                                 {"[2001:db8::1]:65535", "2001:db8::1", 65535}}) {
            _config->setString("indexd.turn", server);
            const auto s = IndexSettings::read(*_config, {"indexd.turn", "indexd.turnSecretFile"});
            CPPUNIT_ASSERT_MESSAGE(server + ": " + s.error(), s.ok());
            CPPUNIT_ASSERT_EQUAL(host, s->turnHost);
            CPPUNIT_ASSERT_EQUAL(port, static_cast<int>(s->turnPort));
            CPPUNIT_ASSERT_EQUAL(std::string("/etc/peerchat/turn-secret"), s->turnSecretFile);
        }
    }

    void testTurnRefusedWithoutItsSecretFileAndBack()
    {
        _config->setString("indexd.turn", "turn.example.org:3478");
        CPPUNIT_ASSERT_EQUAL(std::string("--turn needs --turn-secret-file FILE, the file holding the TURN server's "
                                         "static-auth-secret; give both or neither"),
                             IndexSettings::read(*_config, {"indexd.turn"}).error());
        _config->remove("indexd.turn");
        _config->setString("indexd.turnSecretFile", "/etc/peerchat/turn-secret");
        CPPUNIT_ASSERT_EQUAL(
            std::string("indexd.turnSecretFile needs --turn HOST:PORT, the TURN server its secret is for; give "
                        "both or neither"),
            IndexSettings::read(*_config, {}).error());
        _config->setString("indexd.turnSecretFile", "turn-secret");
        _config->setString("indexd.turn", "turn.example.org:3478");
        CPPUNIT_ASSERT_EQUAL(std::string("--turn-secret-file must be an absolute path, got 'turn-secret'"),
                             IndexSettings::read(*_config, {"indexd.turnSecretFile"}).error());
    }

    void testTurnRefusesBadServerNamingFlag()
    {
        _config->setString("indexd.turnSecretFile", "/etc/peerchat/turn-secret");
        for (const char* bad : {"turn.example.org", "turn.example.org:0", "turn.example.org:65536", ":3478",
                                "turn.example.org:", "turn.example.org:34 78", "turn.example.org:-1", "[]:3478",
                                "turn.example.org:3478x"}) {
            _config->setString("indexd.turn", bad);
            const auto s = IndexSettings::read(*_config, {"indexd.turn"});
            CPPUNIT_ASSERT_MESSAGE(bad, !s.ok());
            CPPUNIT_ASSERT_EQUAL("--turn must be HOST:PORT with PORT 1..65535, such as turn.example.org:3478 or "
                                 "[2001:db8::1]:3478, got '" + std::string(bad) + "'",
                                 s.error());
        }
    }

    void testEveryKeyHasFlag()
    {
        for (const auto& key : IndexSettings::keys()) {
            CPPUNIT_ASSERT(key.key.rfind("indexd.", 0) == 0);
            CPPUNIT_ASSERT(!key.flag.empty());
            _config->setString(key.key, "?");
            const auto s = IndexSettings::read(*_config, {key.key});
            CPPUNIT_ASSERT_MESSAGE(key.key, s.error().rfind("--" + key.flag + " must be", 0) == 0);
            _config->remove(key.key);
        }
    }

private:
    Poco::AutoPtr<Poco::Util::MapConfiguration> _config;
};

CPPUNIT_TEST_SUITE_REGISTRATION(IndexSettingsTest);
