#pragma once

#include "LocalProtocol.h"

#include <deque>
#include <optional>

namespace peerchat::chatui {

/// The contact requests (add, accept, decline, remove, block, unblock) one
/// window sent that peerd has not answered yet, oldest first, so the window
/// that asked can confirm what happened. peerd answers each with a contact
/// event naming the user in the state the request leads to, which every
/// window gets, or with an error event whose op is the request's, which only
/// the connection that asked gets.
class ContactRequests
{
public:
    /// A request answered: what was asked, how the relation stood before,
    /// and what peerd says now (nullopt when it refused the request).
    struct Answer
    {
        local::ContactRequest request;
        local::Relation before = local::Relation::None;
        std::optional<local::ContactInfo> now;
    };

    /// Keeps request, asked while the relation with its peer was before; returns it to send.
    local::ContactRequest start(local::ContactRequest request, local::Relation before);

    /// When event answers one of these requests, takes it out and returns it
    /// with its answer; else nullopt. A contact event answers the oldest
    /// request for its user whose outcome it shows (a letter from the user
    /// that crossed the request may answer it instead; the state is the same
    /// either way); an error answers the oldest request of its op.
    std::optional<Answer> answer(const local::Event& event);

    /// Forgets every request: with the connection gone, peerd's answers to
    /// them are lost, and the next roster shows what came of them.
    void clear() { _requests.clear(); }
    bool empty() const { return _requests.empty(); }

    /// True when contact is where request leads: asked (or contacts at once,
    /// for an add that met their request), contacts, no relation (decline,
    /// remove), blocked or not.
    static bool leadsTo(const local::ContactRequest& request, const local::ContactInfo& contact);

private:
    struct Pending
    {
        local::ContactRequest request;
        local::Relation before;
    };

    std::deque<Pending> _requests;
};

} // namespace peerchat::chatui
