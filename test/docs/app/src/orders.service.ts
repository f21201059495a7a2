import { Injectable } from '@nestjs/common';

/** The reader's own service. */
@Injectable()
export class OrdersService {}
