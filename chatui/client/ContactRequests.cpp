#include "ContactRequests.h"

#include <algorithm>

namespace peerchat::chatui {

local::ContactRequest ContactRequests::start(local::ContactRequest request, local::Relation before)
{
    _requests.push_back(Pending{request, before});
    return request;
}

std::optional<ContactRequests::Answer> ContactRequests::answer(const local::Event& event)
{
    std::deque<Pending>::iterator found = _requests.end();
    std::optional<local::ContactInfo> now;
    if (const auto* contact = std::get_if<local::ContactEvent>(&event)) {
        found = std::find_if(_requests.begin(), _requests.end(), [&](const Pending& pending) {
            return pending.request.peer == contact->contact.name && leadsTo(pending.request, contact->contact);
        });
        now = contact->contact;
    } else if (const auto* error = std::get_if<local::ErrorEvent>(&event)) {
        found = std::find_if(_requests.begin(), _requests.end(), [&](const Pending& pending) {
            return local::LocalProtocol::contactChangeName(pending.request.change) == error->op;
        });
    }
    if (found == _requests.end()) return std::nullopt;
    Answer answered{std::move(found->request), found->before, std::move(now)};
    _requests.erase(found);
    return answered;
}

bool ContactRequests::leadsTo(const local::ContactRequest& request, const local::ContactInfo& contact)
{
    switch (request.change) {
    case local::ContactChange::Add:
        return contact.relation == local::Relation::Asked || contact.relation == local::Relation::Contact;
    case local::ContactChange::Accept: return contact.relation == local::Relation::Contact;
    case local::ContactChange::Decline:
    case local::ContactChange::Remove: return contact.relation == local::Relation::None;
    case local::ContactChange::Block: return contact.blocked;
    case local::ContactChange::Unblock: return !contact.blocked;
    }
    return false;
}

} // namespace peerchat::chatui
