#include "IndexService.h"

#include "Base64.h"
#include "DataPath.h"
#include "Fingerprint.h"
#include "KeyFile.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/NetException.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace peerchat {

namespace {

// Why a socket could not be bound, and what to do about it.
std::string bindFailure(const std::string& what, const Poco::Net::SocketAddress& address, const std::string& flag,
                        const Poco::Exception& e)
{
    std::string text = "cannot listen on " + what + " " + address.toString() + ": ";
    switch (e.code()) {
    case EADDRINUSE:
        return text + "address in use; is another indexd running? choose another --" + flag;
    case EADDRNOTAVAIL:
        return text + "no such address on this host; choose another --bind";
    case EACCES:
        return text + "permission denied (ports below 1024 need privileges); choose another --" + flag;
    default:
        return text + e.displayText();
    }
}

// How often to look for silent users (or unproven logins): a fraction of the
// expiry time, so a user is logged out at most an eighth late, but never
// busier than every 10 ms nor lazier than every second.
std::chrono::milliseconds expirySweepPeriod(std::chrono::milliseconds expireAfter)
{
    return std::clamp(expireAfter / 8, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
}

// How often to look for offline lines due again: a resend is at most a
// quarter late.
std::chrono::milliseconds redeliverySweepPeriod(std::chrono::milliseconds redeliverEvery)
{
    return std::clamp(redeliverEvery / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
}

// How often to expire old offline letters and report refused posts: an
// eighth of the expiry time, so a letter goes at most an eighth late, but
// never busier than every 10 ms nor lazier than every 10 s, which is as often
// as a summary of refusals is worth a line.
std::chrono::milliseconds mailSweepPeriod(std::chrono::milliseconds mailExpireAfter)
{
    return std::clamp(mailExpireAfter / 8, std::chrono::milliseconds(10), std::chrono::milliseconds(10000));
}

// The port of a roster listener, 0 when it is not open.
std::uint16_t rosterPort(const std::unique_ptr<RosterListener>& listener)
{
    return listener ? listener->port() : 0;
}

} // namespace

IndexService::IndexService(const IndexSettings& settings)
    : _settings(settings),
      _relay(openRelay(settings)),
      _identity(loadIdentity(settings)),
      _database(openDatabase(settings)),
      _limiter(static_cast<double>(settings.loginRate), 2.0 * static_cast<double>(settings.loginRate),
               settings.rateTableSize),
      _loginLimiter(static_cast<double>(settings.loginsPerMinute) / 60, static_cast<double>(settings.loginsPerMinute),
                    settings.rateTableSize)
{
    auto& log = Poco::Logger::get("IndexService");
    if (const std::size_t dropped = _database->droppedPlaintextLines(); dropped > 0)
        log.warning("dropped %z offline lines an older indexd kept in plaintext in %s: indexd now keeps only letters "
                    "sealed to their recipients, and their senders still hold those lines",
                    dropped, settings.database);
    _mailbox = std::make_unique<Mailbox>(*_database, settings.mail);
    _keys = std::make_unique<KeyRegistry>(*_database);

    if (settings.legacy) {
        // A roster connection from an address proves a plain login from there
        // (LoginHandler::handleRosterConnection), which only then goes online.
        const auto proves = [this](const Poco::Net::IPAddress& address) { _handler->handleRosterConnection(address); };
        _seedRoster = listen(RosterFormat::SeedText, settings.rosterPort, "roster-port", proves);
        _dotnetRoster = listen(RosterFormat::DotNet, settings.dotnetRosterPort, "dotnet-roster-port", proves);
        log.warning("legacy mode: seed and .NET clients log in without authentication, so anyone can log in, log "
                    "out or be announced under their names, and their rosters and presence are plain; names that "
                    "belong to a peerchat/3 key stay protected. Run without --legacy when no seed client needs it");
    }

    const Poco::Net::SocketAddress udpAddress(settings.bind, settings.udpPort);
    try {
        // Datagrams are handled only once run() starts, when _handler is set.
        _udp = std::make_unique<UdpChannel>(
            _loop, udpAddress, [this](std::string_view bytes, const Endpoint& from) { _handler->handleDatagram(bytes, from); });
    } catch (const Poco::Exception& e) {
        throw Poco::IOException(bindFailure("UDP", udpAddress, "port", e));
    }
    _out = _udp.get();
    if (settings.faults.enabled()) {
        _faulty = std::make_unique<FaultySink>(*_udp, _loop, settings.faults);
        _out = _faulty.get();
        log.warning("fault injection is on (%s): indexd drops, duplicates and delays its own datagrams on purpose",
                    settings.faults.toString());
    }
    _sealed = std::make_unique<SealedSender>(_directory, *_out);
    _broadcaster = std::make_unique<Broadcaster>(_directory, *_out);
    _carrier = std::make_unique<MailCarrier>(*_mailbox, *_keys, _directory, *_sealed, settings.redeliverEvery,
                                             &LoginHandler::systemMilliseconds);
    // Presence noted while a datagram is handled goes out a tick later,
    // coalesced per recipient.
    _presence = std::make_unique<PresenceRouter>(_directory, _routes, *_sealed, settings.legacy, [this] {
        _loop.runAfter(PresenceRouter::kTick, [this] { _presence->flush(); });
    });
    _handler = std::make_unique<LoginHandler>(
        LoginHandler::Parts{_directory, *_keys, _limiter, _loginLimiter, *_broadcaster, *_presence, *_carrier, _routes,
                            *_sealed, _identity, *_out, _relay.get()},
        RosterPorts{rosterPort(_seedRoster), rosterPort(_dotnetRoster)}, settings.legacy);

    every(expirySweepPeriod(settings.expireAfter), [this] { _handler->expireSilentUsers(_settings.expireAfter); });
    if (settings.legacy)
        every(expirySweepPeriod(settings.legacyProof), [this] { _handler->expireUnprovenLogins(_settings.legacyProof); });
    every(settings.dropReportEvery, [this] { _handler->reportDrops(_settings.dropReportEvery); });
    every(redeliverySweepPeriod(settings.redeliverEvery),
          [this] { _carrier->redeliverDue(std::chrono::steady_clock::now()); });
    const auto mailSweep = mailSweepPeriod(settings.mailExpireAfter);
    every(mailSweep, [this, mailSweep] {
        _carrier->expireLetters(_settings.mailExpireAfter);
        if (const std::string summary = _carrier->takeRefusalSummary(mailSweep); !summary.empty())
            Poco::Logger::get("MailCarrier").information(summary);
    });
}

IndexService::~IndexService() = default;

std::unique_ptr<RosterListener> IndexService::listen(RosterFormat format, std::uint16_t port, const std::string& flag,
                                                     RosterListener::ConnectionObserver observer)
{
    const Poco::Net::SocketAddress address(_settings.bind, port);
    try {
        const RosterListener::Limits limits{_settings.maxRosterConnections, _settings.rosterPerAddress,
                                            _settings.rosterDeadline, _settings.dropReportEvery};
        return std::make_unique<RosterListener>(_loop, _directory, format, address, limits, std::move(observer));
    } catch (const Poco::Exception& e) {
        throw Poco::IOException(bindFailure("TCP", address, flag, e));
    }
}

std::unique_ptr<TurnRelay> IndexService::openRelay(const IndexSettings& settings)
{
    if (settings.turnHost.empty()) return nullptr;
    auto relay =
        std::make_unique<TurnRelay>(TurnRelay::open(settings.turnHost, settings.turnPort, settings.turnSecretFile));
    Poco::Logger::get("IndexService")
        .information("TURN relay at %s (--turn %s): peerchat/3 users get credentials for it, valid %d hours",
                     relay->server().toString(), settings.turnHost, static_cast<int>(TurnRelay::kTtl.count()));
    return relay;
}

IndexIdentity IndexService::loadIdentity(const IndexSettings& settings)
{
    bool created = false;
    SigningKey key = KeyFile::loadOrCreate(settings.keyPath, &created);
    Poco::Logger::get("IndexService")
        .notice("identity key %s %s, fingerprint %s", std::string(created ? "created at" : "loaded from"),
                settings.keyPath, Fingerprint::of(key.publicKey()));
    return IndexIdentity(std::move(key));
}

std::unique_ptr<IndexDatabase> IndexService::openDatabase(const IndexSettings& settings)
{
    if (settings.database != ":memory:") DataPath::ensureDirectory(settings.database, "database");
    try {
        return std::make_unique<IndexDatabase>(settings.database);
    } catch (const Poco::Exception& e) {
        throw Poco::IOException("cannot open the offline mailbox " + e.message()
                                + "; move the file away or choose another --database");
    }
}

void IndexService::every(std::chrono::milliseconds period, const std::function<void()>& task)
{
    _loop.runAfter(period, [this, period, task] {
        try {
            task();
        } catch (const Poco::Exception& e) {
            // The mailbox's database failed; the next round tries again.
            Poco::Logger::get("IndexService").error("periodic sweep failed: %s", e.displayText());
        }
        every(period, task);
    });
}

std::string IndexService::readyLine() const
{
    return "indexd ready udp=" + _udp->localEndpoint().toString() + " seed-roster="
           + std::to_string(rosterPort(_seedRoster)) + " dotnet-roster=" + std::to_string(rosterPort(_dotnetRoster))
           + " identity=" + Base64::encode(_identity.publicKey());
}

void IndexService::run()
{
    _loop.run();
}

void IndexService::stop()
{
    _loop.stop();
}

} // namespace peerchat
