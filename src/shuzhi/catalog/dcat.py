"""DCAT 3 (JSON-LD) rendering of published catalogue entries.

Standard DCAT/Dublin Core terms carry what they can (title, description, publisher,
issued, accrual periodicity, format, relation); the Chinese metadata without a DCAT
equivalent (classification, share and open attributes, data items) uses the ``shuzhi:``
vocabulary declared in the context.
"""

from __future__ import annotations

from typing import Any

from shuzhi.catalog.schemas import EntryOut

FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
# Update-cycle codes with an EU frequency equivalent; the others stay shuzhi-only.
CYCLE_FREQUENCY = {
    "1": "CONT",
    "2": "DAILY",
    "3": "WEEKLY",
    "4": "MONTHLY",
    "5": "QUARTERLY",
    "6": "ANNUAL",
    "7": "ANNUAL_2",
    "8": "IRREG",
}
CONTEXT: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "shuzhi": "urn:shuzhi:catalog:",
    "dct:issued": {"@type": "xsd:date"},
}


def dataset(out: EntryOut, labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    """One entry as a ``dcat:Dataset`` node."""
    node: dict[str, Any] = {
        "@id": f"urn:shuzhi:catalog:entry:{out.resource_code}",
        "@type": "dcat:Dataset",
        "dct:identifier": out.resource_code,
        "dct:title": {"@value": out.name, "@language": "zh-CN"},
        "dct:description": {"@value": out.abstract, "@language": "zh-CN"},
        "dct:publisher": {
            "@type": "foaf:Agent",
            "foaf:name": out.unit_name,
            "dct:identifier": out.provider_code,
        },
        "dcat:version": str(out.published_version or out.version),
        "dcat:theme": {
            "@type": "shuzhi:Classification",
            "shuzhi:classificationCode": out.classification_code,
            "shuzhi:class": labels.get("resource_class", {}).get(out.class_code, out.class_code),
            "shuzhi:subclass": labels.get("resource_subclass", {}).get(
                out.class_code + out.subclass_code, out.subclass_code
            ),
        },
        "dcat:distribution": {
            "@type": "dcat:Distribution",
            "dct:format": labels.get("format", {}).get(out.format_code, out.format_code),
            "shuzhi:formatSubtype": out.format_subtype,
        },
        "shuzhi:shareType": out.share_type.value,
        "shuzhi:openType": out.open_type.value,
        "shuzhi:updateCycle": labels.get("update_cycle", {}).get(
            out.update_cycle, out.update_cycle
        ),
        "shuzhi:classified": out.is_classified,
        "shuzhi:dataItem": [
            {
                "@type": "shuzhi:DataItem",
                "dct:title": i.name,
                "shuzhi:dataType": i.data_type,
                "shuzhi:length": i.length,
                "shuzhi:shareType": i.share_type.value,
                **({"shuzhi:dataElement": i.element_code} if i.element_code else {}),
            }
            for i in out.items
        ],
    }
    if out.publish_date is not None:
        node["dct:issued"] = out.publish_date.isoformat()
    if out.update_cycle in CYCLE_FREQUENCY:
        node["dct:accrualPeriodicity"] = {"@id": FREQUENCY + CYCLE_FREQUENCY[out.update_cycle]}
    if out.share_conditions:
        node["shuzhi:shareConditions"] = out.share_conditions
    if out.open_conditions:
        node["shuzhi:openConditions"] = out.open_conditions
    if out.related_codes:
        node["dct:relation"] = [
            {"@id": f"urn:shuzhi:catalog:entry:{code}"} for code in out.related_codes
        ]
    return node


def catalog(title: str, datasets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@id": "urn:shuzhi:catalog",
        "@type": "dcat:Catalog",
        "dct:title": {"@value": title, "@language": "zh-CN"},
        "dcat:dataset": datasets,
    }
