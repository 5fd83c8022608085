-- Population band labels in table order.
SELECT label FROM pop_bands ORDER BY "order"
