"""foxhunt: ThreatFox IOCs to Microsoft Sentinel / Defender XDR KQL hunts."""

__version__ = "0.1.0"
