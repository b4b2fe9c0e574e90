#pragma once

#include "MailBudget.h"

#include <cstddef>

namespace peerchat::test {

/// Mailbox limits that nothing in a unit test reaches, but recipientLines
/// letters per recipient; a test lowers the one it is about.
inline MailBudget::Limits roomyMailLimits(std::size_t recipientLines = 100)
{
    MailBudget::Limits limits;
    limits.pairLines = 100;
    limits.pairBytes = 100000;
    limits.senderLines = 100;
    limits.senderBytes = 100000;
    limits.recipientLines = recipientLines;
    limits.totalBytes = 100000;
    return limits;
}

} // namespace peerchat::test
