"""The portal's catalogue as DCAT 3 (JSON-LD and Turtle) and datasets as schema.org markup.

The site catalogue lists open datasets only, each with one ``dcat:Distribution`` per
download format (``dcat:downloadURL``) and a landing page. Turtle is written directly
from the same nodes: the shapes are fixed, so no RDF library is needed.
"""

from __future__ import annotations

import json
from typing import Any

from shuzhi.catalog.dcat import CYCLE_FREQUENCY, FREQUENCY
from shuzhi.portal.data import CONTENT_TYPES
from shuzhi.portal.schemas import FORMATS, OpenDataset

PREFIXES = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _distributions(d: OpenDataset, base: str) -> list[dict[str, Any]]:
    if not d.columns:
        return []
    return [
        {
            "@id": f"{base}/open/datasets/{d.slug}#{fmt}",
            "@type": "dcat:Distribution",
            "dct:title": f"{d.entry.name} ({fmt.upper()})",
            "dcat:downloadURL": {"@id": f"{base}/open/datasets/{d.slug}/download.{fmt}"},
            "dcat:mediaType": CONTENT_TYPES[fmt].split(";")[0],
            "dct:format": fmt.upper(),
        }
        for fmt in FORMATS
    ]


def dataset_node(d: OpenDataset, base: str) -> dict[str, Any]:
    e = d.entry
    node: dict[str, Any] = {
        "@id": f"{base}/open/datasets/{d.slug}",
        "@type": "dcat:Dataset",
        "dct:identifier": d.resource_code,
        "dct:title": {"@value": e.name, "@language": "zh-CN"},
        "dct:description": {"@value": e.abstract, "@language": "zh-CN"},
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": e.unit_name},
        "dct:issued": {"@value": d.opened_at.date().isoformat(), "@type": "xsd:date"},
        "dct:modified": {"@value": d.modified_at.date().isoformat(), "@type": "xsd:date"},
        "dcat:landingPage": {"@id": f"{base}/open/datasets/{d.slug}"},
        "dcat:keyword": [i.name for i in e.items[:20]],
        "dct:accessRights": "有条件开放" if d.conditional else "无条件开放",
        "dcat:distribution": _distributions(d, base),
    }
    if e.update_cycle in CYCLE_FREQUENCY:
        node["dct:accrualPeriodicity"] = {"@id": FREQUENCY + CYCLE_FREQUENCY[e.update_cycle]}
    return node


def catalog(title: str, datasets: list[OpenDataset], base: str) -> dict[str, Any]:
    return {
        "@context": PREFIXES,
        "@id": f"{base}/open/catalog",
        "@type": "dcat:Catalog",
        "dct:title": {"@value": title, "@language": "zh-CN"},
        "foaf:homepage": {"@id": f"{base}/open"},
        "dcat:dataset": [dataset_node(d, base) for d in datasets],
    }


def _literal(value: Any) -> str:
    if isinstance(value, dict) and "@id" in value:
        return f"<{value['@id']}>"
    if isinstance(value, dict) and "@value" in value:
        text = json.dumps(value["@value"], ensure_ascii=False)
        if "@language" in value:
            return f"{text}@{value['@language']}"
        if "@type" in value:
            return f"{text}^^{value['@type']}"
        return text
    return json.dumps(value, ensure_ascii=False)


def _subject(node: dict[str, Any], out: list[str]) -> str:
    """Write one node as Turtle; nested nodes with an @id become their own subjects."""
    lines: list[str] = [f"a {node['@type']}"]
    for key, value in node.items():
        if key.startswith("@"):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "@type" in item and "@id" in item:
                lines.append(f"{key} {_subject(item, out)}")
            elif isinstance(item, dict) and "@type" in item and "@value" not in item:
                inner = [f"a {item['@type']}"] + [
                    f"{k} {_literal(v)}" for k, v in item.items() if not k.startswith("@")
                ]
                lines.append(f"{key} [ {' ; '.join(inner)} ]")
            else:
                lines.append(f"{key} {_literal(item)}")
    out.append(f"<{node['@id']}>\n    " + " ;\n    ".join(lines) + " .\n")
    return f"<{node['@id']}>"


def turtle(catalog_node: dict[str, Any]) -> str:
    out: list[str] = [f"@prefix {p}: <{uri}> .\n" for p, uri in PREFIXES.items()]
    out.append("\n")
    _subject(catalog_node, out)
    return "\n".join(out)


def schema_org(d: OpenDataset, base: str) -> dict[str, Any]:
    """schema.org ``Dataset`` markup for the dataset page (search engines' dataset search)."""
    e = d.entry
    node: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": e.name,
        "description": e.abstract,
        "identifier": d.resource_code,
        "url": f"{base}/open/datasets/{d.slug}",
        "inLanguage": "zh-CN",
        "isAccessibleForFree": True,
        "creator": {"@type": "Organization", "name": e.unit_name},
        "datePublished": d.opened_at.date().isoformat(),
        "dateModified": d.modified_at.date().isoformat(),
        "keywords": [i.name for i in e.items[:20]],
        "variableMeasured": [c.name for c in d.columns],
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": CONTENT_TYPES[fmt].split(";")[0],
                "contentUrl": f"{base}/open/datasets/{d.slug}/download.{fmt}",
            }
            for fmt in FORMATS
        ]
        if d.columns
        else [],
    }
    if d.conditional:
        node["conditionsOfAccess"] = e.open_conditions or "有条件开放：须申请并同意数据利用协议"
    return node
