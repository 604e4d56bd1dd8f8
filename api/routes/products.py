"""Products (GTIN master data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlmodel import select

from api import service
from api.deps import CurrentEnterpriseDep, SessionDep
from api.errors import not_found
from api.models import Product
from api.routes.common import ERRORS
from api.schemas import ProductIn, ProductOut

router = APIRouter(tags=["products"], responses=ERRORS)


def _out(p: Product) -> ProductOut:
    return ProductOut.model_validate(p, from_attributes=True)


@router.post("/products", response_model=ProductOut, status_code=201)
def create_product(data: ProductIn, principal: CurrentEnterpriseDep, session: SessionDep) -> ProductOut:
    """Register a product by GTIN (check digit verified); importers and suppliers."""
    return _out(service.create_product(session, principal, data))


@router.get("/products", response_model=list[ProductOut])
def list_products(session: SessionDep) -> list[ProductOut]:
    """Every product (public master data)."""
    return [_out(p) for p in session.exec(select(Product).order_by(Product.gtin)).all()]  # type: ignore[arg-type]


@router.get("/products/{gtin}", response_model=ProductOut)
def get_product(gtin: Annotated[str, Path(pattern=r"^\d{8,14}$")], session: SessionDep) -> ProductOut:
    """One product by GTIN-8/12/13/14."""
    product = session.get(Product, service.normalize_gtin(gtin))
    if product is None:
        raise not_found("unknown_product", f"GTIN {gtin} is not registered")
    return _out(product)
