#pragma once

#include <string>

namespace peerchat {

/// One configuration key of a daemon and the command-line flag that sets it.
struct SettingKey
{
    std::string key;          ///< "indexd.port"
    std::string flag;         ///< "port", given as --port
    std::string argument;     ///< what --help calls the value
    std::string description;  ///< for --help, default included
    /// A yes/no setting (SettingsReader::flag): the flag alone means true
    /// ("--legacy"), and "--legacy=false" says no.
    bool isSwitch = false;
};

} // namespace peerchat
