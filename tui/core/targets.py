"""The target catalogue: every table or ASIM parser foxhunt can hunt in, as data.

For each target: where it exists (flavours), the time column per flavour, the data connector it
needs, which IOC types it hunts on which columns, what to project, and how each exclusion field
maps onto its columns. The planner reads only this; no target-specific if-statements elsewhere.
Column names come from the Microsoft table references (Log Analytics, Defender advanced hunting)
and the ASIM schema pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .exclusions import Field
from .model import IocType


class Flavour(StrEnum):
    SENTINEL = "sentinel"  # Log Analytics / Sentinel: TimeGenerated
    DEFENDER = "defender"  # Defender XDR advanced hunting: Timestamp only


class MatchMode(StrEnum):
    HAS = "has"  # has_any: a domain also finds its subdomains, a URL finds longer URLs
    EXACT = "exact"  # in~: the whole value, case-insensitive


class IpMode(StrEnum):
    PAIR = "pair"  # IP and port must match together
    IP = "ip"  # IP only (tables without a port column, or a broader hunt)


class Holds(StrEnum):
    """What a column holds, which decides the operator for each IOC type."""

    HOST = "host"  # a bare host name (DnsEvents.Name)
    URL = "url"  # a full URL
    HOST_OR_URL = "host_or_url"  # either (DeviceNetworkEvents.RemoteUrl)
    IP = "ip"
    HASH = "hash"
    TEXT = "text"  # free text holding the value somewhere (DnsEvents.IPAddresses)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    holds: Holds


@dataclass(frozen=True, slots=True)
class Probe:
    """How one target hunts one IOC type: columns tested (any may match), the port column for
    ip:port pairs, and the ASIM filtering parameter that pre-filters the list."""

    columns: tuple[Column, ...]
    port: str | None = None
    asim_param: str | None = None
    asim_ipv4_only: bool = False  # *_has_any_prefix parameters understand IPv4 only


@dataclass(frozen=True, slots=True)
class Connector:
    id: str
    name: str


@dataclass(frozen=True)
class Target:
    name: str
    purpose: str  # "DNS queries", completes "Hunt for ... matching <family> IOCs"
    flavours: frozenset[Flavour]
    connectors: tuple[Connector, ...]  # Sentinel data connectors (first = preferred)
    defender_product: str  # what feeds it in Defender XDR ("" when not in Defender)
    probes: Mapping[IocType, Probe]
    project: tuple[str, ...]  # output columns after the time column
    fields: Mapping[Field, str]  # exclusion field -> KQL expression over this target
    asim: bool = False  # an ASIM parser function: called with starttime=ago(...)
    # Analytic-rule entity mappings: output column -> "EntityType.Identifier" (identifiers as
    # Sentinel's entity reference names them). Consecutive columns of one entity type with
    # different identifiers form one entity (FileHash needs Algorithm and Value together);
    # a repeated identifier starts another entity. Listed most useful first: a rule keeps
    # at most five. FileHashAlgorithm/FileHashValue are columns the planner adds for rules.
    entities: Mapping[str, str] = field(default_factory=dict)

    def time_column(self, flavour: Flavour) -> str:
        if self.asim or flavour is Flavour.SENTINEL:
            return "TimeGenerated"
        return "Timestamp"

    def hunts(self, ioc_type: IocType) -> bool:
        return ioc_type in self.probes

    def available(self, flavour: Flavour) -> bool:
        return flavour in self.flavours

    def requirement(self, flavour: Flavour) -> str:
        """The seed's "Ensure this data connector is enabled", made specific."""
        if flavour is Flavour.DEFENDER:
            return f"{self.defender_product} data in advanced hunting ({self.name})"
        if not self.connectors:
            return f"an ASIM-normalised source parsed by {self.name}"
        names = " or ".join(f'"{c.name}" ({c.id})' for c in self.connectors)
        return f"data connector {names} feeding {self.name}"


_HASHES = (IocType.MD5, IocType.SHA1, IocType.SHA256)
_BOTH = frozenset({Flavour.SENTINEL, Flavour.DEFENDER})
_SENTINEL = frozenset({Flavour.SENTINEL})
_XDR = Connector("MicrosoftThreatProtection", "Microsoft Defender XDR")
_MDE = "Microsoft Defender for Endpoint"
_MDO = "Microsoft Defender for Office 365"


def _col(name: str, holds: Holds) -> Column:
    return Column(name, holds)


def _host_of(column: str) -> str:
    return f"tostring(parse_url({column}).Host)"


_TARGETS: tuple[Target, ...] = (
    Target(
        name="DnsEvents",
        purpose="DNS queries",
        flavours=_SENTINEL,
        connectors=(Connector("DNS", "DNS (Windows DNS Server)"),),
        defender_product="",
        probes={
            IocType.DOMAIN: Probe((_col("Name", Holds.HOST),)),
            IocType.IP_PORT: Probe((_col("IPAddresses", Holds.TEXT),)),
        },
        project=("Computer", "ClientIP", "Name", "IPAddresses", "QueryType"),
        fields={Field.SOURCE_IP: "ClientIP", Field.DOMAIN: "Name"},
        entities={"Name": "DNS.DomainName", "ClientIP": "IP.Address"},
    ),
    Target(
        name="UrlClickEvents",
        purpose="clicks on URLs in email, Teams and Office",
        flavours=_BOTH,
        connectors=(_XDR,),
        defender_product=_MDO,
        probes={
            IocType.URL: Probe((_col("Url", Holds.URL),)),
            IocType.DOMAIN: Probe((_col("Url", Holds.URL),)),
        },
        project=("AccountUpn", "Url", "ActionType", "IsClickedThrough", "IPAddress",
                 "NetworkMessageId"),
        fields={
            Field.ACCOUNT: "AccountUpn",
            Field.URL: "Url",
            Field.DOMAIN: _host_of("Url"),
            Field.SOURCE_IP: "IPAddress",
        },
        entities={"Url": "URL.Url", "AccountUpn": "Account.FullName", "IPAddress": "IP.Address",
                  "NetworkMessageId": "MailMessage.NetworkMessageId"},
    ),
    Target(
        name="DeviceNetworkEvents",
        purpose="device network connections",
        flavours=_BOTH,
        connectors=(_XDR,),
        defender_product=_MDE,
        probes={
            IocType.IP_PORT: Probe((_col("RemoteIP", Holds.IP),), port="RemotePort"),
            IocType.DOMAIN: Probe((_col("RemoteUrl", Holds.HOST_OR_URL),)),
            IocType.URL: Probe((_col("RemoteUrl", Holds.HOST_OR_URL),)),
        },
        project=("DeviceName", "ActionType", "RemoteIP", "RemotePort", "RemoteUrl", "LocalIP",
                 "InitiatingProcessFileName", "InitiatingProcessCommandLine",
                 "InitiatingProcessAccountName"),
        fields={
            Field.ACCOUNT: "InitiatingProcessAccountName",
            Field.PROCESS_NAME: "InitiatingProcessFileName",
            Field.PROCESS_COMMAND_LINE: "InitiatingProcessCommandLine",
            Field.SOURCE_IP: "LocalIP",
            Field.DESTINATION_IP: "RemoteIP",
            Field.DOMAIN: 'iff(RemoteUrl contains "://", tostring(parse_url(RemoteUrl).Host), '
                          "RemoteUrl)",
            Field.URL: "RemoteUrl",
            Field.DEVICE: "DeviceName",
            Field.FILE_PATH: "InitiatingProcessFolderPath",
        },
        entities={"RemoteIP": "IP.Address", "RemoteUrl": "URL.Url", "DeviceName": "Host.FullName",
                  "InitiatingProcessAccountName": "Account.Name",
                  "InitiatingProcessCommandLine": "Process.CommandLine"},
    ),
    Target(
        name="DeviceFileEvents",
        purpose="files created or changed on devices",
        flavours=_BOTH,
        connectors=(_XDR,),
        defender_product=_MDE,
        probes={
            IocType.SHA256: Probe((_col("SHA256", Holds.HASH),)),
            IocType.SHA1: Probe((_col("SHA1", Holds.HASH),)),
            IocType.MD5: Probe((_col("MD5", Holds.HASH),)),
            IocType.URL: Probe((_col("FileOriginUrl", Holds.URL),)),
            IocType.DOMAIN: Probe((_col("FileOriginUrl", Holds.URL),)),
            IocType.IP_PORT: Probe((_col("FileOriginIP", Holds.IP),)),
        },
        project=("DeviceName", "ActionType", "FileName", "FolderPath", "SHA256", "SHA1", "MD5",
                 "FileOriginUrl", "InitiatingProcessFileName", "InitiatingProcessAccountName"),
        fields={
            Field.ACCOUNT: "InitiatingProcessAccountName",
            Field.PROCESS_NAME: "InitiatingProcessFileName",
            Field.PROCESS_COMMAND_LINE: "InitiatingProcessCommandLine",
            Field.SOURCE_IP: "RequestSourceIP",
            Field.DOMAIN: _host_of("FileOriginUrl"),
            Field.URL: "FileOriginUrl",
            Field.DEVICE: "DeviceName",
            Field.FILE_PATH: "FolderPath",
        },
        entities={"FileHashAlgorithm": "FileHash.Algorithm", "FileHashValue": "FileHash.Value",
                  "FileOriginUrl": "URL.Url", "DeviceName": "Host.FullName",
                  "FileName": "File.Name", "FolderPath": "File.Directory",
                  "InitiatingProcessAccountName": "Account.Name"},
    ),
    Target(
        name="DeviceProcessEvents",
        purpose="processes started on devices",
        flavours=_BOTH,
        connectors=(_XDR,),
        defender_product=_MDE,
        probes={
            IocType.SHA256: Probe((_col("SHA256", Holds.HASH),)),
            IocType.SHA1: Probe((_col("SHA1", Holds.HASH),)),
            IocType.MD5: Probe((_col("MD5", Holds.HASH),)),
        },
        project=("DeviceName", "AccountName", "FileName", "FolderPath", "ProcessCommandLine",
                 "SHA256", "SHA1", "MD5", "InitiatingProcessFileName"),
        fields={
            Field.ACCOUNT: "AccountName",
            Field.PROCESS_NAME: "FileName",
            Field.PROCESS_COMMAND_LINE: "ProcessCommandLine",
            Field.DEVICE: "DeviceName",
            Field.FILE_PATH: "FolderPath",
        },
        entities={"FileHashAlgorithm": "FileHash.Algorithm", "FileHashValue": "FileHash.Value",
                  "DeviceName": "Host.FullName", "AccountName": "Account.Name",
                  "ProcessCommandLine": "Process.CommandLine",
                  "FileName": "File.Name", "FolderPath": "File.Directory"},
    ),
    Target(
        name="CommonSecurityLog",
        purpose="firewall and proxy events (CEF)",
        flavours=_SENTINEL,
        connectors=(Connector("CefAma", "Common Event Format (CEF) via AMA"),
                    Connector("CEF", "Common Event Format (CEF)")),
        defender_product="",
        probes={
            IocType.IP_PORT: Probe((_col("DestinationIP", Holds.IP),), port="DestinationPort"),
            IocType.DOMAIN: Probe((_col("DestinationHostName", Holds.HOST),
                                   _col("RequestURL", Holds.URL))),
            IocType.URL: Probe((_col("RequestURL", Holds.URL),)),
            IocType.SHA256: Probe((_col("FileHash", Holds.HASH),)),
            IocType.SHA1: Probe((_col("FileHash", Holds.HASH),)),
            IocType.MD5: Probe((_col("FileHash", Holds.HASH),)),
        },
        project=("DeviceVendor", "DeviceProduct", "Activity", "DeviceAction", "SourceIP",
                 "SourceUserName", "DestinationIP", "DestinationPort", "DestinationHostName",
                 "RequestURL", "FileHash"),
        fields={
            Field.ACCOUNT: "SourceUserName",
            Field.PROCESS_NAME: "SourceProcessName",
            Field.SOURCE_IP: "SourceIP",
            Field.DESTINATION_IP: "DestinationIP",
            Field.DOMAIN: "DestinationHostName",
            Field.URL: "RequestURL",
            Field.DEVICE: "SourceHostName",
            Field.FILE_PATH: "FilePath",
        },
        entities={"DestinationIP": "IP.Address", "DestinationHostName": "DNS.DomainName",
                  "RequestURL": "URL.Url", "FileHashAlgorithm": "FileHash.Algorithm",
                  "FileHashValue": "FileHash.Value", "SourceIP": "IP.Address",
                  "SourceUserName": "Account.Name"},
    ),
    Target(
        name="EmailUrlInfo",
        purpose="URLs found in email",
        flavours=_BOTH,
        connectors=(_XDR,),
        defender_product=_MDO,
        probes={
            IocType.URL: Probe((_col("Url", Holds.URL),)),
            IocType.DOMAIN: Probe((_col("UrlDomain", Holds.HOST),)),
        },
        project=("NetworkMessageId", "Url", "UrlDomain", "UrlLocation", "ReportId"),
        fields={Field.URL: "Url", Field.DOMAIN: "UrlDomain"},
        entities={"Url": "URL.Url", "UrlDomain": "DNS.DomainName",
                  "NetworkMessageId": "MailMessage.NetworkMessageId"},
    ),
    Target(
        name="_Im_Dns",
        purpose="DNS queries from every ASIM-normalised DNS source",
        flavours=_SENTINEL,
        connectors=(Connector("ASimDnsActivityLogs", "Windows DNS Events via AMA"),),
        defender_product="",
        probes={
            IocType.DOMAIN: Probe((_col("DnsQuery", Holds.HOST),), asim_param="domain_has_any"),
        },
        project=("SrcIpAddr", "SrcHostname", "SrcUsername", "DnsQuery", "DnsQueryTypeName",
                 "DnsResponseName", "EventResultDetails", "Dvc"),
        fields={
            Field.SOURCE_IP: "SrcIpAddr",
            Field.DEVICE: "SrcHostname",
            Field.ACCOUNT: "SrcUsername",
            Field.PROCESS_NAME: "SrcProcessName",
            Field.DOMAIN: "DnsQuery",
        },
        asim=True,
        entities={"DnsQuery": "DNS.DomainName", "SrcIpAddr": "IP.Address",
                  "SrcHostname": "Host.HostName", "SrcUsername": "Account.Name"},
    ),
    Target(
        name="_Im_WebSession",
        purpose="web requests from every ASIM-normalised web source",
        flavours=_SENTINEL,
        connectors=(),
        defender_product="",
        probes={
            IocType.URL: Probe((_col("Url", Holds.URL),), asim_param="url_has_any"),
            IocType.DOMAIN: Probe((_col("Url", Holds.URL),), asim_param="url_has_any"),
            IocType.IP_PORT: Probe((_col("DstIpAddr", Holds.IP),), port="DstPortNumber",
                                   asim_param="ipaddr_has_any_prefix", asim_ipv4_only=True),
        },
        project=("SrcIpAddr", "SrcHostname", "SrcUsername", "Url", "HttpUserAgent", "DstIpAddr",
                 "DstPortNumber", "DstHostname", "EventResult", "DvcAction"),
        fields={
            Field.ACCOUNT: "SrcUsername",
            Field.SOURCE_IP: "SrcIpAddr",
            Field.DESTINATION_IP: "DstIpAddr",
            Field.DOMAIN: _host_of("Url"),
            Field.URL: "Url",
            Field.DEVICE: "SrcHostname",
        },
        asim=True,
        entities={"Url": "URL.Url", "DstIpAddr": "IP.Address", "SrcIpAddr": "IP.Address",
                  "SrcHostname": "Host.HostName", "SrcUsername": "Account.Name"},
    ),
    Target(
        name="_Im_NetworkSession",
        purpose="network sessions from every ASIM-normalised network source",
        flavours=_SENTINEL,
        connectors=(),
        defender_product="",
        probes={
            IocType.IP_PORT: Probe((_col("DstIpAddr", Holds.IP),), port="DstPortNumber",
                                   asim_param="dstipaddr_has_any_prefix", asim_ipv4_only=True),
            IocType.DOMAIN: Probe((_col("DstHostname", Holds.HOST),),
                                  asim_param="hostname_has_any"),
        },
        project=("SrcIpAddr", "SrcPortNumber", "SrcHostname", "SrcUsername", "DstIpAddr",
                 "DstPortNumber", "DstHostname", "NetworkProtocol", "DvcAction", "EventResult",
                 "Dvc"),
        fields={
            Field.ACCOUNT: "SrcUsername",
            Field.SOURCE_IP: "SrcIpAddr",
            Field.DESTINATION_IP: "DstIpAddr",
            Field.DOMAIN: "DstHostname",
            Field.DEVICE: "SrcHostname",
        },
        asim=True,
        entities={"DstIpAddr": "IP.Address", "DstHostname": "DNS.DomainName",
                  "SrcIpAddr": "IP.Address", "SrcHostname": "Host.HostName",
                  "SrcUsername": "Account.Name"},
    ),
    Target(
        name="_Im_FileEvent",
        purpose="file activity from every ASIM-normalised file source",
        flavours=_SENTINEL,
        connectors=(),
        defender_product="",
        probes={
            IocType.SHA256: Probe((_col("TargetFileSHA256", Holds.HASH),),
                                  asim_param="hashes_has_any"),
            IocType.SHA1: Probe((_col("TargetFileSHA1", Holds.HASH),),
                                asim_param="hashes_has_any"),
            IocType.MD5: Probe((_col("TargetFileMD5", Holds.HASH),), asim_param="hashes_has_any"),
        },
        project=("EventType", "ActorUsername", "ActingProcessName", "TargetFilePath",
                 "TargetFileName", "TargetFileSHA256", "TargetFileSHA1", "TargetFileMD5",
                 "DvcHostname"),
        fields={
            Field.ACCOUNT: "ActorUsername",
            Field.PROCESS_NAME: "ActingProcessName",
            Field.PROCESS_COMMAND_LINE: "ActingProcessCommandLine",
            Field.SOURCE_IP: "SrcIpAddr",
            Field.DEVICE: "DvcHostname",
            Field.FILE_PATH: "TargetFilePath",
        },
        asim=True,
        entities={"FileHashAlgorithm": "FileHash.Algorithm", "FileHashValue": "FileHash.Value",
                  "TargetFileName": "File.Name", "DvcHostname": "Host.HostName",
                  "ActorUsername": "Account.Name"},
    ),
)

CATALOGUE: Mapping[str, Target] = {t.name: t for t in _TARGETS}

#: Where each IOC type goes when the user names no target (sentinel follows the seed).
DEFAULT_TARGETS: Mapping[Flavour, Mapping[IocType, str]] = {
    Flavour.SENTINEL: {
        IocType.DOMAIN: "DnsEvents",
        IocType.URL: "UrlClickEvents",
        IocType.IP_PORT: "DeviceNetworkEvents",
        **{h: "DeviceFileEvents" for h in _HASHES},
    },
    # DnsEvents does not exist in advanced hunting; devices' own lookups are the nearest.
    Flavour.DEFENDER: {
        IocType.DOMAIN: "DeviceNetworkEvents",
        IocType.URL: "UrlClickEvents",
        IocType.IP_PORT: "DeviceNetworkEvents",
        **{h: "DeviceFileEvents" for h in _HASHES},
    },
}


def find_target(name: str) -> Target:
    """Look a target up by name, case-insensitively."""
    for target in _TARGETS:
        if target.name.casefold() == name.strip().casefold():
            return target
    names = ", ".join(CATALOGUE)
    raise KeyError(f"unknown target {name!r} (choose from {names})")


Route = tuple[str, IocType]


def default_routes(flavour: Flavour) -> frozenset[Route]:
    return frozenset((name, t) for t, name in DEFAULT_TARGETS[flavour].items())


def routes_for(names: list[str]) -> frozenset[Route]:
    """Every IOC type each named target can hunt."""
    routes: set[Route] = set()
    for name in names:
        target = find_target(name)
        routes.update((target.name, t) for t in target.probes)
    return frozenset(routes)
