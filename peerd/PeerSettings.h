#pragma once

#include "Contacts.h"
#include "CryptoTypes.h"
#include "Endpoint.h"
#include "FaultSettings.h"
#include "Parsed.h"
#include "SettingKey.h"

#include <Poco/Net/SocketAddress.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace peerchat {

/// peerd's settings: every `peerd.*` key, read from the layered configuration
/// (command-line flags over the --config file over defaults) and checked
/// before anything is bound.
struct PeerSettings
{
    /// Every key peerd reads, in the order --help lists them.
    static const std::vector<SettingKey>& keys();

    /// Reads and checks every key, with the default where one is not set, and
    /// resolves indexd's host name. flagKeys are the keys set by flags, so an
    /// error names what the person typed ("--port must be ...").
    static Parsed<PeerSettings> read(const Poco::Util::AbstractConfiguration& config,
                                     const std::set<std::string>& flagKeys);

    std::string user;
    Endpoint index;                        ///< indexd's UDP endpoint, resolved
    Poco::Net::SocketAddress bind;         ///< where the UDP socket binds (port 0: any)
    std::string socketPath;
    std::string database;                  ///< the SQLite file with the history, unread marks, outbox and key pins
    std::string keyFile;                   ///< the user's identity key (KeyFile), created on first run
    std::optional<PublicKey> indexKey;     ///< indexd's identity key when configured; else pinned on first contact
    bool legacy = false;                   ///< talk to and from seed and .NET clients in their plain protocol
    Contacts::Strangers strangers = Contacts::Strangers::Hold;  ///< lines from users who are not contacts
    bool sendTyping = true;                ///< tell a peer while the user types to it
    std::chrono::minutes autoAway{0};      ///< idle this long, show away (0: never)
    std::size_t historyLimit = 0;
    std::chrono::milliseconds loginRetry{0};
    std::chrono::milliseconds heartbeat{0};   ///< between heartbeats to indexd
    std::chrono::milliseconds retransmit{0};  ///< before an unacked line first goes out again
    std::chrono::milliseconds giveUp{0};      ///< before an unacked line is reported failed
    std::chrono::milliseconds dropReport{0};  ///< between summaries of dropped datagrams
    FaultSettings faults;                     ///< fault injection on the UDP socket (tests only)
    int logLevel = 0;  ///< a Poco::Message::Priority; 0 turns logging off
};

} // namespace peerchat
