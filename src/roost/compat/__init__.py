"""Other frameworks' APIs on top of roost, so their programs run unchanged (raspend 2.x)."""
