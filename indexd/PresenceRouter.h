#pragma once

#include "ContactRoutes.h"
#include "Directory.h"
#include "SealedSender.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace peerchat {

/// Sends peerchat/3 users the presence they may see, and nothing else: a
/// peerchat/3 user sees another when each declared the other
/// (ContactRoutes) and the other is not invisible; in legacy mode every
/// seed and .NET user is seen by everyone (they have no contacts). Presence
/// goes sealed (`here`, `gone`, `snapshot`), numbered per recipient and
/// session (OnlineUser::presenceSeq).
///
/// Handlers tell it what changed (a list declared, a user arrived or
/// left); it notes who may have seen the subject before the change and who
/// may see it after, and sends those (recipient, subject) pairs at the next
/// flush, a tick later (kTick), as they stand then: a subject seen is
/// `here` with what it is now, one not seen `gone`. So a storm of changes
/// bound for one recipient goes out as a few datagrams
/// (Protocol::kMaxBundleBytes of messages each), a login and logout within a
/// tick as one `gone`, and no per-user timer is needed. A snapshot goes at
/// once, and the pairs noted for its recipient before it are not sent: it
/// holds what they would tell. Nobody is told of anyone it was never
/// allowed to see, not even that it left.
class PresenceRouter
{
public:
    /// wake is called when the first pair of a tick is noted: the owner
    /// calls flush() soon after (a timer; tests may flush at once).
    PresenceRouter(Directory& directory, ContactRoutes& routes, SealedSender& sealed, bool legacy,
                   std::function<void()> wake);

    /// Takes part of a contact list of an online peerchat/3 user (its
    /// signature checked) into the routes. When it completes a new version,
    /// whoever saw the declarer under the old one or sees it under the new
    /// one is noted, and for the declarer the contacts it added or dropped
    /// that it saw or sees; the first list
    /// of a session, and the list held declared again (how peerd asks to
    /// resync), bring the declarer a snapshot instead.
    ContactRoutes::Taken declare(const ContactsDeclaration& part);

    /// user came online, moved, or logged in again with new keys: whoever
    /// sees it is noted. (A peerchat/3 user is seen only once its list is
    /// declared.)
    void arrived(const OnlineUser& user);

    /// user left (it is no longer in the directory): whoever saw it is
    /// noted, and its list is forgotten.
    void left(const OnlineUser& user);

    /// Sends what was noted since the last flush.
    void flush();

    /// True when something waits for flush().
    bool pending() const { return !_pairs.empty(); }

    /// How long after a change the owner flushes: short beside a person's
    /// notice, long beside a login storm's datagrams. (A tick that grew with
    /// the time the last flush took, up to a second, coalesced no more under
    /// IndexScaleBench's storms: docs/PERFORMANCE.md.)
    static constexpr std::chrono::milliseconds kTick{20};

    /// True when the peerchat/3 user recipient sees subject: the same rule
    /// for an introduction (punch) as for presence.
    bool sees(const std::string& recipient, const OnlineUser& subject) const;

private:
    void note(const std::string& recipient, const std::string& subject);
    /// Notes every online peerchat/3 user who sees subject as things stand
    /// (subject need not be online: one leaving is noted as it was).
    void noteViewersOf(const OnlineUser& subject);
    /// Notes, for recipient, each contact its list gained or lost since
    /// before (its contacts then, sorted) that it saw then or sees now.
    void noteSeenChanges(const OnlineUser& recipient, const std::vector<std::string>& before);
    void snapshotTo(const std::string& recipient);
    /// The messages for recipient, numbered from its next presence number.
    void sendSnapshot(const OnlineUser& recipient);
    void sendUpdates(const OnlineUser& recipient, std::vector<std::pair<std::string, std::string>>::const_iterator first,
                     std::vector<std::pair<std::string, std::string>>::const_iterator last);
    /// The fields of subject's here after its SEQ, as it stands now: encoded
    /// once for all the recipients of one flush or one snapshot.
    const std::string& hereFieldsOf(const OnlineUser& subject);

    /// Seals the messages added for one recipient in as few datagrams as
    /// fit, each sent when the next would not fit, the last when it goes.
    class Bundles
    {
    public:
        Bundles(SealedSender& sealed, const std::string& recipient);
        ~Bundles();
        Bundles(const Bundles&) = delete;
        Bundles& operator=(const Bundles&) = delete;
        void add(const std::string& message);

    private:
        SealedSender& _sealed;
        const std::string& _recipient;
        std::string _bundle;
    };

    Directory& _directory;
    ContactRoutes& _routes;
    SealedSender& _sealed;
    bool _legacy;
    std::function<void()> _wake;
    std::vector<std::pair<std::string, std::string>> _pairs;  ///< (recipient, subject) noted
    /// Recipients sent a snapshot since the last flush, each with how many
    /// pairs were noted before it (which the snapshot made needless).
    std::unordered_map<std::string, std::size_t> _snapshotAt;
    std::unordered_map<std::string, std::string> _hereFields; ///< hereFieldsOf's, for one flush
};

} // namespace peerchat
