#pragma once

#include "FaultSettings.h"
#include "MailBudget.h"
#include "Parsed.h"
#include "SettingKey.h"

#include <Poco/Util/AbstractConfiguration.h>
#include <Poco/Net/IPAddress.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace peerchat {

/// indexd's settings: every `indexd.*` key, read from the layered
/// configuration (command-line flags over the --config file over defaults)
/// and checked before anything is bound.
struct IndexSettings
{
    /// Every key indexd reads, in the order --help lists them.
    static const std::vector<SettingKey>& keys();

    /// Reads and checks every key, with the default where one is not set.
    /// flagKeys are the keys set by command-line flags, so that an error names
    /// what the person typed ("--port must be 0..65535, got 'abc'") rather
    /// than the key ("indexd.port must be ...").
    static Parsed<IndexSettings> read(const Poco::Util::AbstractConfiguration& config,
                                      const std::set<std::string>& flagKeys);

    Poco::Net::IPAddress bind;
    std::uint16_t udpPort = 0;
    std::uint16_t rosterPort = 0;
    std::uint16_t dotnetRosterPort = 0;
    std::size_t maxRosterConnections = 0;       ///< per roster port
    std::size_t rosterPerAddress = 0;           ///< per roster port and source address
    std::chrono::milliseconds rosterDeadline{0};
    std::chrono::milliseconds expireAfter{0};    ///< a silent peerchat user is logged out after this
    std::string database;                        ///< SQLite file of the mailbox and the names' keys, or ":memory:"
    MailBudget::Limits mail;                     ///< what the offline mailbox holds at most
    std::chrono::milliseconds mailExpireAfter{0}; ///< an offline letter is removed this long after it was stored
    std::chrono::milliseconds redeliverEvery{0}; ///< unacked offline lines go out again after this
    std::string keyPath;                         ///< indexd's identity key file (KeyFile)
    bool legacy = false;                         ///< seed and .NET clients may log in, unauthenticated
    std::string turnHost;                        ///< the TURN relay's host as written; empty: no relay
    std::uint16_t turnPort = 0;                  ///< the TURN relay's port (with turnHost)
    std::string turnSecretFile;                  ///< the file of the relay's static-auth-secret (with turnHost)
    std::uint64_t loginRate = 0;                 ///< unauthenticated datagrams per second per address
    std::size_t rateTableSize = 0;               ///< addresses (identity keys) each rate limiter tracks at most
    std::uint64_t loginsPerMinute = 0;           ///< announced logins per identity key (plain: per address)
    std::chrono::milliseconds legacyProof{0};    ///< a plain login not proven by a roster connection by then is forgotten
    std::chrono::milliseconds dropReportEvery{0}; ///< drops are summed up in one log line this often
    FaultSettings faults;                        ///< misbehaviour of the UDP socket, for tests
    int logLevel = 0;  ///< a Poco::Message::Priority; 0 turns logging off
};

} // namespace peerchat
