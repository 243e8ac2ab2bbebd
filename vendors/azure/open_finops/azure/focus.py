"""Azure's rows mapped to FOCUS: the SQL of ``open_finops_azure.focus``.

Two inputs, one output with core's columns (open_finops.core.focus.COLUMNS) and Azure's ``x_``:

* the FOCUS exports ("Cost and usage details (FOCUS)", 1.0, 1.0r2, 1.2-preview): their FOCUS
  columns as they are; the 1.0 names carried forward (``x_InvoiceId`` -> InvoiceId,
  ``x_PricingCurrency`` -> PricingCurrency, ``x_SkuMeterName`` -> SkuMeter, also beside a 1.2
  export whose table brings the new name); columns 1.0 lacks
  derived where FOCUS defines them (ServiceSubcategory ``Other (<ServiceCategory>)``,
  PricingCurrencyEffectiveCost from EffectiveCost and the exchange rate), NULL otherwise
  (CapacityReservation*, CommitmentDiscountQuantity/Unit);
* the cost details ("actual" and "amortized", EA and MCA), as Microsoft's FinOps toolkit
  converts them (docs-mslearn/focus/convert.md): where both kinds are loaded for a billing
  account and period, every amortized row and, from actual, the commitment purchases and
  refunds; BilledCost from actual, EffectiveCost from amortized. Each amortized row is paired
  with the actual row of the same charge (:func:`_paired`: same day, subscription, resource,
  meter, charge type, pricing model, commitment, product, location; the n-th with the n-th),
  whose cost is its BilledCost (and whose invoiceId it takes); an actual row without a partner
  comes in alone with EffectiveCost 0. So sum(BilledCost) is the actual export's total (the
  invoice) and sum(EffectiveCost) the amortized one's, to the cent, also when one export was
  re-run for a period and the other not (yet): a customer schedules the two exports apart, an
  import can run between their runs, one can fail. (Chosen over having the generator restate
  amortized with actual: that would hide the case.) Unused commitment has no actual partner:
  BilledCost 0, as in Azure's own FOCUS export. **Only actual loaded** for a period: its rows,
  BilledCost its cost except commitment-covered usage (0), EffectiveCost its cost except
  commitment purchases and refunds (0, as FOCUS requires of a purchase that covers future
  charges): it lacks the amortization, load the amortized export for it. **Only amortized
  loaded**: its rows; EffectiveCost is right, BilledCost lacks the commitment purchases.
  A table of kind ``either`` (an older export whose rows hold no commitment, so that its
  actual and amortized readings are the same rows) plays actual alone, and beside another
  export of its account and period the kind that one is not (:func:`_role`).

One outer SELECT (:func:`_conform`) then gives both Azure's defaults; the rules that hold for
every provider (a describing column NULL exactly when the column it describes is,
CommitmentDiscountStatus only on usage, ConsumedQuantity only on usage that is not unused
commitment...) are core's, applied to every vendor's rows in ``main.focus``
(open_finops.core.focus.conform). ProviderName and InvoiceIssuerName are "Microsoft" (the
validator wants BilledCost 0 where they differ).
ServiceCategory and ServiceSubcategory follow ServiceName wherever the name is one of
:data:`_SERVICES` (also for the FOCUS exports: a 1.0 export has no subcategory, and one
ServiceName must have one category and subcategory across exports and vendors).
The lookup tables (regions, services) are literal VALUES inside the view, so reading
``main.focus`` needs no plugin code.
"""
from __future__ import annotations

from collections.abc import Mapping

from open_finops.core.sql import literal, quote
from open_finops.core.focus import COLUMNS
from open_finops.core.mapping import Mappings

#: Azure's own columns of the view, after core's, with their types.
X_COLUMNS = {
    "x_ExportName": "VARCHAR", "x_BillingPeriod": "VARCHAR", "x_Dataset": "VARCHAR",
    "x_UnusedCommitment": "BOOLEAN", "x_ResourceGroupName": "VARCHAR",
    "x_SkuMeterCategory": "VARCHAR", "x_SkuMeterId": "VARCHAR",
    "x_InvoiceSectionName": "VARCHAR", "x_BillingProfileId": "VARCHAR",
    "x_CostCenter": "VARCHAR", "x_PricingUnitDescription": "VARCHAR",
}
#: Cost-details columns (lower case, after aliases) read as numbers and as dates.
DETAIL_NUMBERS = {"quantity", "effectiveprice", "costinbillingcurrency", "unitprice", "paygprice",
                  "costinpricingcurrency", "costinusd", "paygcostinbillingcurrency",
                  "paygcostinusd", "exchangeratepricingtobilling"}
DETAIL_DATES = {"date", "billingperiodstartdate", "billingperiodenddate",
                "serviceperiodstartdate", "serviceperiodenddate", "exchangeratedate"}
#: Older and EA names -> the lower-case names the tables keep.
ALIASES = {"subscriptionguid": "subscriptionid", "usagedatetime": "date",
           "pretaxcost": "costinbillingcurrency", "usagequantity": "quantity",
           "billingcurrencycode": "billingcurrency", "resourcegroupname": "resourcegroup",
           "departmentname": "invoicesectionname", "instanceid": "resourceid"}
#: FOCUS 1.0 export names -> their FOCUS 1.2 names.
FORWARD = {"x_InvoiceId": "InvoiceId", "x_PricingCurrency": "PricingCurrency",
           "x_SkuMeterName": "SkuMeter"}

# EA location names -> (RegionId, RegionName); MCA and FOCUS already use the ids.
_REGIONS = [
    ("us east", "eastus", "East US"), ("us east 2", "eastus2", "East US 2"),
    ("us west", "westus", "West US"), ("us west 2", "westus2", "West US 2"),
    ("us west 3", "westus3", "West US 3"), ("us central", "centralus", "Central US"),
    ("us north central", "northcentralus", "North Central US"),
    ("us south central", "southcentralus", "South Central US"),
    ("us west central", "westcentralus", "West Central US"),
    ("eu west", "westeurope", "West Europe"), ("eu north", "northeurope", "North Europe"),
    ("uk south", "uksouth", "UK South"), ("uk west", "ukwest", "UK West"),
    ("fr central", "francecentral", "France Central"),
    ("de west central", "germanywestcentral", "Germany West Central"),
    ("ch north", "switzerlandnorth", "Switzerland North"),
    ("se central", "swedencentral", "Sweden Central"),
    ("ap east", "eastasia", "East Asia"), ("ap southeast", "southeastasia", "Southeast Asia"),
    ("ja east", "japaneast", "Japan East"), ("ja west", "japanwest", "Japan West"),
    ("au east", "australiaeast", "Australia East"),
    ("ca central", "canadacentral", "Canada Central"),
    ("br south", "brazilsouth", "Brazil South"), ("in central", "centralindia", "Central India"),
]
# (consumed service, resource type) -> ServiceName, ServiceCategory, ServiceSubcategory, after
# finops-toolkit's open data (Services.csv); '' matches any resource type.
_SERVICES = [
    ("microsoft.compute", "microsoft.compute/virtualmachines", "Virtual Machines", "Compute",
     "Virtual Machines"),
    ("microsoft.compute", "microsoft.compute/virtualmachinescalesets",
     "Virtual Machine Scale Sets", "Compute", "Virtual Machines"),
    ("microsoft.compute", "microsoft.compute/disks", "Managed Disks", "Storage", "Block Storage"),
    ("microsoft.compute", "microsoft.compute/snapshots", "Managed Disks", "Storage",
     "Block Storage"),
    ("microsoft.storage", "", "Storage Accounts", "Storage", "Storage Platforms"),
    ("microsoft.operationalinsights", "", "Azure Monitor", "Management and Governance",
     "Observability"),
    ("microsoft.insights", "", "Azure Monitor", "Management and Governance", "Observability"),
    ("microsoft.sql", "", "Azure SQL Database", "Databases", "Relational Databases"),
    ("microsoft.documentdb", "", "Azure Cosmos DB", "Databases", "NoSQL Databases"),
    ("microsoft.web", "", "App Service", "Web", "Application Platforms"),
    ("microsoft.containerservice", "", "Azure Kubernetes Service", "Compute", "Containers"),
    ("microsoft.network", "", "Virtual Network", "Networking", "Network Infrastructure"),
    ("microsoft.keyvault", "", "Key Vault", "Security", "Secret Management"),
    ("microsoft.capacity", "", "Azure Reservations", "Management and Governance",
     "Cost Management"),
    ("microsoft.billingbenefits", "", "Azure Savings Plan for Compute", "Compute",
     "Other (Compute)"),
    ("microsoft.saas", "", "Azure Marketplace", "Other", "Other (Other)"),
]


def _values(rows: list[tuple], alias: str, names: str) -> str:
    body = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    return f"(VALUES {body}) {alias}({names})"


def _col(have: dict[str, str], name: str, sql_type: str = "VARCHAR") -> str:
    return quote(name) if name in have else f"CAST(NULL AS {sql_type})"


def commitment_sql(charge_type: str, pricing_model: str) -> tuple[str, ...]:
    """(charge, model, committed, unused, covered, bought): SQL over the ChargeType and
    PricingModel columns (expressions, NULL where a file lacks one). Unused commitment comes
    only in amortized exports, its purchases and refunds only in actual ones, the usage it
    covers in both (at 0 in actual): the rows that tell the kinds apart (open_finops.azure.kinds)
    and that the FOCUS conversion treats apart."""
    charge = f"coalesce({charge_type}, 'Usage')"
    model = f"replace(coalesce({pricing_model}, ''), ' ', '')"
    committed = f"{model} IN ('Reservation', 'SavingsPlan')"
    unused = f"{charge} IN ('UnusedReservation', 'UnusedSavingsPlan')"
    covered = f"({charge} = 'Usage' AND {committed})"
    bought = f"({charge} IN ('Purchase', 'Refund') AND {committed})"
    return charge, model, committed, unused, covered, bought


def details_sql(have: dict[str, str], view: str) -> str:
    """FOCUS-shaped rows of the cost-details tables (view ``view``, columns ``have``)."""
    def c(name: str, sql_type: str = "VARCHAR") -> str:
        return _col(have, name, sql_type)

    cost = c("costinbillingcurrency", "DOUBLE")
    charge, model, committed, unused, covered, bought = commitment_sql(
        c("chargetype"), c("pricingmodel"))
    benefit = f"coalesce(NULLIF({c('benefitid')}, ''), NULLIF({c('reservationid')}, ''))"
    mca = "agreement = 'MCA'"
    uom = f"coalesce(NULLIF(trim({c('unitofmeasure')}), ''), '1')"
    block = (f"CAST(coalesce(NULLIF(regexp_extract({uom}, '^([0-9]+)', 1), ''), '1') AS DOUBLE)"
             f" * CASE WHEN regexp_matches({uom}, '^[0-9]+ ?K( |$)') THEN 1000 ELSE 1 END")
    rest = f"trim(regexp_replace({uom}, '^[0-9.]+ ?K?', ''))"
    unit = (f"CASE WHEN {rest} = '' THEN 'Units' WHEN starts_with({rest}, '/') THEN "
            f"'Units' || {rest} WHEN {rest} IN ('Hour', 'Day', 'Month', 'Year', 'Minute', "
            f"'Second') THEN {rest} || 's' ELSE {rest} END")
    category = (f"CASE WHEN {charge} = 'Usage' OR {unused} THEN 'Usage' WHEN {charge} IN "
                f"('Purchase', 'Refund') THEN 'Purchase' WHEN {charge} IN ('Tax', 'Credit') "
                f"THEN {charge} ELSE 'Adjustment' END")
    resource = f"NULLIF({c('resourceid')}, '')"
    rtype = f"lower(regexp_extract({resource}, '/providers/([^/]+/[^/]+)', 1))"
    location = f"lower(trim(coalesce({c('resourcelocation')}, '')))"
    quantity = f"{c('quantity', 'DOUBLE')} / ({block})"
    unit_price = (f"abs(CASE WHEN {c('unitprice', 'DOUBLE')} > 0 THEN {c('unitprice', 'DOUBLE')}"
                  f" ELSE {c('effectiveprice', 'DOUBLE')} END)")
    list_price = (f"abs({c('paygprice', 'DOUBLE')} * CASE WHEN {mca} THEN coalesce("
                  f"{c('exchangeratepricingtobilling', 'DOUBLE')}, 1) ELSE 1 END)")
    select = {
        "AvailabilityZone": f"NULLIF({c('availabilityzone')}, '')",
        "BilledCost": "_billed",
        "BillingAccountId": f"CASE WHEN {mca} THEN {c('billingprofileid')} "
                            f"ELSE {c('billingaccountid')} END",
        "BillingAccountName": f"CASE WHEN {mca} THEN {c('billingprofilename')} "
                              f"ELSE {c('billingaccountname')} END",
        "BillingAccountType": f"CASE WHEN {mca} THEN 'Billing Profile' "
                              f"ELSE 'Billing Account' END",
        "BillingCurrency": c("billingcurrency"),
        "BillingPeriodEnd": "timezone('UTC', CAST(billing_period || '-01' AS TIMESTAMP) "
                            "+ INTERVAL 1 MONTH)",
        "BillingPeriodStart": "timezone('UTC', CAST(billing_period || '-01' AS TIMESTAMP))",
        "ChargeCategory": category,
        "ChargeClass": f"CASE WHEN {charge} = 'Refund' THEN 'Correction' END",
        "ChargeDescription": f"coalesce(NULLIF({c('productname')}, ''), "
                             f"NULLIF({c('metername')}, ''), {charge})",
        "ChargeFrequency": f"CASE {c('frequency')} WHEN 'OneTime' THEN 'One-Time' WHEN "
                           f"'Recurring' THEN 'Recurring' ELSE 'Usage-Based' END",
        "ChargePeriodEnd": f"timezone('UTC', CAST({c('date', 'DATE')} AS TIMESTAMP) "
                           f"+ INTERVAL 1 DAY)",
        "ChargePeriodStart": f"timezone('UTC', CAST({c('date', 'DATE')} AS TIMESTAMP))",
        "CommitmentDiscountId": benefit,
        "CommitmentDiscountName": f"coalesce(NULLIF({c('benefitname')}, ''), "
                                  f"NULLIF({c('reservationname')}, ''))",
        "CommitmentDiscountStatus": f"CASE WHEN {unused} THEN 'Unused' ELSE 'Used' END",
        "ConsumedQuantity": f"CASE WHEN {charge} = 'Usage' THEN {c('quantity', 'DOUBLE')} END",
        "ConsumedUnit": unit,
        "ContractedCost": f"CASE WHEN {charge} = 'Refund' THEN {cost} ELSE coalesce("
                          f"{unit_price} * {quantity}, {cost}) END",
        "ContractedUnitPrice": unit_price,
        "EffectiveCost": "_effective",
        "InvoiceId": "_invoice",
        # A refund takes back what it refunds, at list prices too.
        "ListCost": f"CASE WHEN {charge} = 'Refund' THEN -abs(coalesce("
                    f"{c('paygcostinbillingcurrency', 'DOUBLE')}, {list_price} * {quantity}, "
                    f"{cost})) ELSE coalesce({c('paygcostinbillingcurrency', 'DOUBLE')}, "
                    f"{list_price} * {quantity}, {cost}) END",
        "ListUnitPrice": list_price,
        "PricingCategory": f"CASE WHEN {category} NOT IN ('Usage', 'Purchase') THEN NULL "
                           f"WHEN {model} = 'Spot' THEN 'Dynamic' WHEN {committed} THEN "
                           f"'Committed' ELSE 'Standard' END",
        "PricingCurrency": f"coalesce(NULLIF({c('pricingcurrency')}, ''), "
                           f"{c('billingcurrency')})",
        # Unit prices are never negative in FOCUS (a refund's sign is in its costs).
        "PricingCurrencyContractedUnitPrice": f"abs({c('unitprice', 'DOUBLE')})",
        "PricingCurrencyEffectiveCost": f"CASE WHEN _effective = 0 THEN 0 ELSE coalesce("
                                        f"{c('costinpricingcurrency', 'DOUBLE')}, _effective)"
                                        f" END",
        "PricingCurrencyListUnitPrice": f"abs({c('paygprice', 'DOUBLE')})",
        "PricingQuantity": quantity,
        "PricingUnit": unit,
        "PublisherName": f"coalesce(NULLIF({c('publishername')}, ''), 'Microsoft')",
        "RegionId": f"coalesce(_region_id, NULLIF(replace({location}, ' ', ''), ''))",
        "RegionName": f"coalesce(_region_name, NULLIF(trim({c('resourcelocation')}), ''))",
        "ResourceId": resource,
        "ResourceName": f"coalesce(NULLIF({c('resourcename')}, ''), "
                        f"NULLIF(regexp_extract({resource}, '[^/]+$'), ''))",
        "ResourceType": rtype,
        "ServiceCategory": "_category", "ServiceName": "_name",
        "ServiceSubcategory": "_subcategory",
        # Azure prices a product by meter: the SKU is the product where the file names it, else
        # the meter (every usage row has one); the price is the product's meter, so that each
        # price has one SKU ("SkuPriceId MUST have one and only one parent SkuId").
        "SkuId": f"coalesce(NULLIF({c('productid')}, ''), NULLIF({c('partnumber')}, ''), "
                 f"NULLIF({c('meterid')}, ''))",
        "SkuPriceId": f"CASE WHEN NULLIF({c('meterid')}, '') IS NOT NULL THEN concat_ws('/', "
                      f"coalesce(NULLIF({c('productid')}, ''), NULLIF({c('partnumber')}, '')), "
                      f"{c('meterid')}) END",
        "SkuMeter": f"coalesce(NULLIF({c('metername')}, ''), NULLIF({c('metercategory')}, ''))",
        "SubAccountId": f"'/subscriptions/' || NULLIF({c('subscriptionid')}, '')",
        "SubAccountName": c("subscriptionname"),
        "Tags": c("tags"),
        "x_UnusedCommitment": unused,
        "x_ResourceGroupName": f"NULLIF({c('resourcegroup')}, '')",
        "x_SkuMeterCategory": c("metercategory"), "x_SkuMeterId": c("meterid"),
        "x_InvoiceSectionName": c("invoicesectionname"),
        "x_BillingProfileId": c("billingprofileid"), "x_CostCenter": c("costcenter"),
        "x_PricingUnitDescription": c("unitofmeasure"),
    }
    select.update(ProviderName="'Microsoft'", InvoiceIssuerName="'Microsoft'")
    select = {**{name: f"CAST(NULL AS {sql_type})" for name, sql_type in COLUMNS.items()},
              **select}
    consumed = f"lower(coalesce({c('consumedservice')}, ''))"
    benefit_service = (f"CASE WHEN {benefit} ILIKE '%/microsoft.capacity/%' THEN "
                       f"'microsoft.capacity' WHEN {benefit} IS NOT NULL THEN "
                       f"'microsoft.billingbenefits' END")
    service_key = (f"CASE WHEN {c('publishertype')} = 'Marketplace' THEN 'microsoft.saas' "
                   f"WHEN {unused} OR {bought} THEN {benefit_service} ELSE {consumed} END")
    rows = (f"SELECT *, {service_key} AS _service, {rtype} AS _rtype, {location} AS _location "
            f"FROM ({_paired(have, view, cost, covered, unused, bought)}) d")
    services = _values(_SERVICES, "s", "service, rtype, name, category, subcategory")
    regions = _values(_REGIONS, "g", "original, id, name")
    body = ", ".join(f"{expr} AS {quote(name)}" for name, expr in select.items())
    fallback_name = f"coalesce(NULLIF({c('metercategory')}, ''), NULLIF({consumed}, ''), 'Other')"
    return (
        f"SELECT {body}, export_name AS x_ExportName, billing_period AS x_BillingPeriod, "
        f"dataset AS x_Dataset FROM (SELECT r.* EXCLUDE (_service, _rtype, _location), "
        f"coalesce(s.name, {fallback_name}) AS _name, coalesce(s.category, 'Other') AS _category,"
        f" coalesce(s.subcategory, 'Other (Other)') AS _subcategory, g.id AS _region_id, "
        f"g.name AS _region_name FROM ({rows}) r LEFT JOIN LATERAL (SELECT * FROM {services} "
        f"WHERE s.service = r._service AND (rtype = '' OR rtype = r._rtype) ORDER BY rtype DESC "
        f"LIMIT 1) s ON true LEFT JOIN {regions} ON g.original = r._location)")


def _account(have: dict[str, str]) -> str:
    def c(name: str) -> str:
        return quote(name) if name in have else "CAST(NULL AS VARCHAR)"

    return (f"(CASE WHEN agreement = 'MCA' THEN {c('billingprofileid')} "
            f"ELSE {c('billingaccountid')} END)")


#: The columns that tell one charge from another in both cost-details datasets (what the
#: amortized export changes of a charge is its cost and prices, never these).
_CHARGE_KEY = ("date", "subscriptionid", "resourceid", "meterid", "chargetype", "pricingmodel",
               "benefitid", "reservationid", "productname", "resourcelocation")


def _role() -> str:
    """The dataset an ``either`` table plays (an older export without commitment rows, whose
    actual and amortized readings are the same rows, open_finops.azure.kinds): beside the other
    kind for its billing account and period, the missing one, so that the two pair as any
    actual and amortized do rather than count twice; beside only ``either`` tables, the first
    export by name is actual and the others amortized; alone, actual (BilledCost and
    EffectiveCost are its cost either way: no purchase, no covered or unused commitment)."""
    w = "OVER (PARTITION BY _account, billing_period)"
    return (f"CASE WHEN dataset <> 'either' THEN dataset "
            f"WHEN bool_or(dataset = 'amortized') {w} THEN 'actual' "
            f"WHEN bool_or(dataset = 'actual') {w} THEN 'amortized' "
            f"WHEN export_name = min(export_name) {w} THEN 'actual' ELSE 'amortized' END")


def _paired(have: dict[str, str], view: str, cost: str, covered: str, unused: str,
            bought: str) -> str:
    """The cost-details rows with their ``_billed`` and ``_effective``. Where a billing
    account's period has both datasets, each amortized row is paired with the actual row of
    the same charge (:data:`_CHARGE_KEY`, the n-th with the n-th), which gives its BilledCost
    (0 if none: unused commitment); an actual row with no amortized partner (a commitment
    purchase or refund, or a charge a newer actual run restated) comes in alone with
    EffectiveCost 0. So sum(BilledCost) is the actual export's total and sum(EffectiveCost)
    the amortized one's, even when one was re-run and the other not yet."""
    def c(name: str) -> str:
        return f"CAST({quote(name)} AS VARCHAR)" if name in have else "''"

    key = " || chr(31) || ".join(f"coalesce({c(name)}, '')" for name in _CHARGE_KEY)
    order = ", ".join(f"{c(name)} NULLS FIRST" for name in ("quantity", "tags", "additionalinfo"))
    part = "_account, billing_period, dataset, _key"
    both = ("(_account, billing_period) IN (SELECT _account, billing_period FROM t GROUP BY ALL "
            "HAVING count(DISTINCT dataset) = 2)")
    same = "a._account = x._account AND a.billing_period = x.billing_period AND a._key = x._key " \
           "AND a._rank = x._rank"
    cost_of = quote("costinbillingcurrency")
    invoice = f"NULLIF({c('invoiceid')}, '')"
    return (
        f"WITH r AS (SELECT * REPLACE ({_role()} AS dataset) FROM (SELECT *, {_account(have)} "
        f"AS _account FROM {view})), "
        f"t AS (SELECT *, {key} AS _key, row_number() OVER (PARTITION BY {part} ORDER BY "
        f"{order}) AS _rank FROM r), "
        f"p AS (SELECT * FROM t WHERE {both}) "
        f"SELECT *, CASE WHEN {covered} OR {unused} THEN 0 ELSE {cost} END AS _billed, "
        f"CASE WHEN {bought} THEN 0 ELSE {cost} END AS _effective, {invoice} AS _invoice "
        f"FROM t WHERE NOT {both} "
        f"UNION ALL BY NAME SELECT a.* EXCLUDE (_invoice), coalesce(x.{cost_of}, 0) AS _billed, "
        f"a.{cost_of} AS _effective, coalesce(a._invoice, x._invoice) AS _invoice "
        f"FROM (SELECT *, {invoice} AS _invoice FROM p WHERE dataset = 'amortized') a "
        f"LEFT JOIN (SELECT *, {invoice} AS _invoice FROM p WHERE dataset = 'actual') x "
        f"ON {same} "
        f"UNION ALL BY NAME SELECT a.*, a.{cost_of} AS _billed, 0 AS _effective, {invoice} AS "
        f"_invoice FROM p a WHERE a.dataset = 'actual' AND NOT EXISTS (SELECT 1 FROM p x "
        f"WHERE x.dataset = 'amortized' AND {same})")


def exports_sql(have: dict[str, str], view: str) -> str:
    """FOCUS-shaped rows of the FOCUS export tables (view ``view``, columns ``have``)."""
    def c(name: str) -> str:
        sql_type = COLUMNS.get(name, "VARCHAR")
        old = next((o for o, new in FORWARD.items() if new == name and o in have), None)
        old = f"CAST(NULLIF(CAST({quote(old)} AS VARCHAR), '') AS {sql_type})" if old else None
        if name in have:  # a 1.2 table beside a 1.0 one (UNION BY NAME): either may have it
            return f"coalesce({quote(name)}, {old})" if old else quote(name)
        return old or f"CAST(NULL AS {sql_type})"

    select = {name: c(name) for name in COLUMNS}
    rate = "TRY_CAST(" + (quote("x_BillingExchangeRate") if "x_BillingExchangeRate" in have
                          else "NULL") + " AS DOUBLE)"
    select["PricingCurrencyEffectiveCost"] = (
        f"coalesce({c('PricingCurrencyEffectiveCost')}, "
        f"\"EffectiveCost\" / NULLIF({rate}, 0), \"EffectiveCost\")")
    select["ServiceSubcategory"] = (f"coalesce({c('ServiceSubcategory')}, 'Other (' || "
                                    f"coalesce(\"ServiceCategory\", 'Other') || ')')")
    select["x_UnusedCommitment"] = "coalesce(\"CommitmentDiscountStatus\" = 'Unused', false)"
    for name in X_COLUMNS:
        if name in have and name not in select:
            select[name] = quote(name)
    select["x_ExportName"] = "export_name"
    select["x_BillingPeriod"] = "billing_period"
    select["x_Dataset"] = "dataset"
    body = ", ".join(f"{expr} AS {quote(name)}" for name, expr in select.items())
    return f"SELECT {body} FROM {view}"


def _conform(inner: str) -> str:
    """Azure's defaults and its own rules over FOCUS-shaped rows (Microsoft as provider,
    issuer and publisher, reservations and savings plans told apart by their IDs, one
    service per ServiceName); the rules of every provider are core's
    (open_finops.core.focus.conform)."""
    fix = {
        "BillingAccountType": "CASE WHEN BillingAccountId IS NOT NULL THEN "
                              "coalesce(BillingAccountType, 'Billing Account') END",
        "CommitmentDiscountCategory": "CASE WHEN CommitmentDiscountId ILIKE "
                                      "'%/microsoft.capacity/%' THEN 'Usage' WHEN "
                                      "CommitmentDiscountId IS NOT NULL THEN 'Spend' END",
        "CommitmentDiscountType": "CASE WHEN CommitmentDiscountId ILIKE "
                                  "'%/microsoft.capacity/%' THEN 'Reservation' WHEN "
                                  "CommitmentDiscountId IS NOT NULL THEN 'Savings Plan' END",
        "InvoiceIssuerName": "coalesce(InvoiceIssuerName, 'Microsoft')",
        "ProviderName": "coalesce(ProviderName, 'Microsoft')",
        "PublisherName": "coalesce(PublisherName, 'Microsoft')",
        "ResourceType": "CASE WHEN ResourceId IS NOT NULL THEN coalesce(ResourceType, "
                        "'Resource') END",
        "ServiceName": "coalesce(ServiceName, 'Other')",
        "SubAccountType": "CASE WHEN SubAccountId IS NOT NULL THEN 'Subscription' END",
        # Tags: a JSON object; Azure's older EA files leave out the braces.
        "Tags": "CASE WHEN json_valid(_tags) AND json_type(_tags) = 'OBJECT' AND _tags <> '{}'"
                " THEN _tags END",
    }
    # One ServiceCategory and ServiceSubcategory per ServiceName (FOCUS 1.2, ServiceName), also
    # across exports that disagree (a 1.0 export has no subcategory) and across accounts.
    fix["ServiceCategory"] = "coalesce(n._category, ServiceCategory, 'Other')"
    fix["ServiceSubcategory"] = ("coalesce(n._subcategory, ServiceSubcategory, 'Other (' || "
                                 "coalesce(ServiceCategory, 'Other') || ')')")
    names = {row[2]: row[2:] for row in _SERVICES}
    canonical = _values(list(names.values()), "n", "_service, _category, _subcategory")
    columns = []
    for name, sql_type in {**COLUMNS, **X_COLUMNS}.items():
        expr = fix.get(name, quote(name))
        columns.append(f"CAST({expr} AS {sql_type}) AS {quote(name)}")
    tags = ("CASE WHEN trim(Tags) = '' THEN NULL WHEN starts_with(trim(Tags), '{') THEN "
            "trim(Tags) ELSE '{' || trim(Tags) || '}' END AS _tags")
    return (f"SELECT {', '.join(columns)} FROM (SELECT *, {tags} FROM ({inner})) f "
            f"LEFT JOIN {canonical} ON n._service = f.ServiceName")


def focus_sql(details: tuple[dict[str, str], str] | None,
              exports: tuple[dict[str, str], str] | None) -> str:
    """The SELECT of ``open_finops_azure.focus`` over the views of both kinds of table (None
    where none is loaded)."""
    parts = []
    if details:
        parts.append(details_sql(*details))
    if exports:
        parts.append(exports_sql(*exports))
    if not parts:
        empty = ", ".join(f"CAST(NULL AS {t}) AS {quote(n)}"
                          for n, t in {**COLUMNS, **X_COLUMNS}.items())
        return f"SELECT {empty} WHERE false"
    return _conform("\nUNION ALL BY NAME\n".join(f"({part})" for part in parts))


def _details(have: Mapping[str, str], view: str) -> str:
    return _conform(f"({details_sql(dict(have), view)})")


def _exports(have: Mapping[str, str], view: str) -> str:
    return _conform(f"({exports_sql(dict(have), view)})")


def _partition(have: Mapping[str, str]) -> str:
    """The rows the cost details' mapping looks across: a billing account's period (the
    actual and amortized rows of a charge pair within it, :func:`_paired`)."""
    return f"billing_period || '/' || coalesce({_account(dict(have))}, '')"


#: The mapping of each kind of export, in the form every engine runs
#: (open_finops.core.mapping); :func:`focus_sql` is their union over the store's tables.
MAPPINGS = Mappings("azure", {"actual": _details, "amortized": _details, "focus": _exports},
                    X_COLUMNS, partition_by={"actual": _partition, "amortized": _partition})
